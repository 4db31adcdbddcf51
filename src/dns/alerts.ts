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
