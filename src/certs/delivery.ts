// Waiting for edges: before asking the CA to validate over HTTP-01, the edges serving a site
// should run a release that serves it (a site added a moment ago is not on them yet).
import { setTimeout as sleep } from 'node:timers/promises';
import { EdgeReport } from '../spec/index.js';
import type { Store } from '../store/types.js';
import { edgesServing } from './policy.js';

export interface EdgesReadyOptions {
  /** Give up waiting (and let the CA try) after this long. */
  timeoutMs?: number;
  /** Edges silent for longer are not waited for. */
  offlineAfterSeconds?: number;
  intervalMs?: number;
}

/**
 * Resolves once every reporting edge that serves `domain` has applied its newest release, or
 * after the timeout. Returns the edges still behind (empty when all caught up).
 */
export async function waitForEdgesServing(
  store: Store,
  domain: string,
  opts: EdgesReadyOptions = {},
): Promise<string[]> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const offlineMs = (opts.offlineAfterSeconds ?? 30) * 1000;
  for (;;) {
    const { spec } = await store.readSharedState();
    const site = spec.sites.find((s) => s.domain === domain);
    if (site === undefined) return [];
    const [bundles, reports] = await Promise.all([store.latestBundles(), store.listEdgeReports()]);
    const behind = edgesServing(spec, site).filter((edge) => {
      const bundle = bundles.find((b) => b.edge === edge);
      const raw = reports.find((r) => r.edge === edge);
      if (bundle === undefined || raw === undefined) return false;
      if (Date.now() - Date.parse(raw.last_seen) > offlineMs) return false;
      const report = EdgeReport.safeParse(raw.report);
      const applied = report.success ? report.data.applied_release : null;
      return applied === null || applied < bundle.release;
    });
    if (behind.length === 0 || Date.now() > deadline) return behind;
    await sleep(opts.intervalMs ?? 250);
  }
}
