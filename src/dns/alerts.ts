// A zone that failed to sync, or that still differs after a sync, is DNS drift: an alert of
// the status snapshot.
import type { DnsSync } from './service.js';

export interface DnsDriftAlert {
  kind: 'dns_drift';
  subject: string;
  message: string;
  since: string | null;
}

export function dnsDriftAlertSource(sync: Pick<DnsSync, 'status'>): () => Promise<DnsDriftAlert[]> {
  return () => {
    const status = sync.status();
    return Promise.resolve(
      status.zones
        .filter((z) => z.state === 'error' || (z.state === 'pending' && !status.syncing))
        .map((z) => ({
          kind: 'dns_drift' as const,
          subject: z.zone,
          message:
            z.state === 'error'
              ? `DNS zone ${z.zone}: ${z.error ?? 'sync failed'}`
              : `DNS zone ${z.zone}: ${z.pending_changes} change(s) not applied`,
          since: z.checked_at,
        })),
    );
  };
}

export interface DnsConflictAlert {
  kind: 'dns_drift' | 'dns_origin_fallback';
  subject: string;
  message: string;
  since: string | null;
}

/** A record set not Outpost's at a name it publishes is served with (or instead of) its
 * answers; and a site whose answers fell back to its origin (no edge of it is up). */
export function dnsConflictAlertSource(
  sync: Pick<DnsSync, 'status' | 'siteFallbacks'>,
): () => Promise<DnsConflictAlert[]> {
  return () =>
    Promise.resolve([
      ...sync.status().zones.flatMap((z) =>
        z.conflicts.map((c) => ({
          kind: 'dns_drift' as const,
          subject: z.zone,
          message: `DNS zone ${z.zone}: ${c} is not Outpost's but sits at a name Outpost publishes: its records are served too (remove it by hand)`,
          since: z.checked_at,
        })),
      ),
      ...sync.siteFallbacks().map((f) => ({
        kind: 'dns_origin_fallback' as const,
        subject: f.site,
        message: `${f.name} ${f.type} answers the origin (${f.answers.join(', ')}): no edge of site ${f.site} is up`,
        since: f.since,
      })),
    ]);
}
