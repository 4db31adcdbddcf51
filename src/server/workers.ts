// Long-running workers of the control plane (bundle builder, DNS sync, certificate renewals,
// probes). Each has one lifecycle; they start in the order listed in app.ts and stop in reverse.
import type { Worker } from '../spec/worker.js';

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
