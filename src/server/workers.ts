// Long-running workers of the control plane. Each has one lifecycle; they start in the order
// listed here and stop in reverse.
import type { CertificateManager } from '../certs/index.js';
import type { DnsSync } from '../dns/service.js';
import type { NotifyService } from '../notify/service.js';
import type { BundleBuilder } from '../edges/builder.js';
import type { StatusService } from '../status/service.js';
import type { Worker } from '../spec/worker.js';

/**
 * The workers in start order: bundles first (edges long-poll them), then status (probes and
 * reports), then the cluster (server/cluster.ts), which runs the singletons on the leader
 * only: the history (time series, incidents: one writer, or counts would add twice),
 * certificate renewals (they publish through the builder), DNS sync, the notifier (it reads
 * the status's alerts, so one control plane sends each message; stopped first). Add new ones
 * here.
 */
export function controlPlaneWorkers(w: {
  builder: BundleBuilder;
  status: StatusService;
  cluster: Worker;
}): Worker[] {
  return [w.builder, w.status, w.cluster];
}

/** The singletons, in start order: they run on one control plane at a time (the leader). */
export function singletonWorkers(w: {
  history: Worker;
  certificates: CertificateManager;
  dnsSync: DnsSync;
  notifier: NotifyService;
}): Worker[] {
  return [w.history, w.certificates, w.dnsSync, w.notifier];
}

export type { Worker } from '../spec/worker.js';

export class Workers {
  private readonly started: Worker[] = [];

  constructor(private readonly list: readonly Worker[]) {}

  async start(): Promise<void> {
    for (const w of this.list) {
      await w.start();
      this.started.push(w);
    }
  }

  async stop(): Promise<void> {
    for (const w of this.started.splice(0).reverse()) await w.stop();
  }

  desiredStateChanged(): void {
    for (const w of this.list) w.onDesiredStateChange?.();
  }
}
