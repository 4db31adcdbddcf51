// A step that fails over and over (the database is down: every probe round fails to write and
// read the shared probes) is logged when it starts failing, again at most once a minute while
// it keeps failing, and once when it works again: not once per round.

export interface RepeatedFailuresOptions {
  /** A step started failing (or still fails, a minute after it was last said). */
  onError?: (err: unknown, what: string) => void;
  /** A step that failed works again, after `failures` failed attempts. */
  onRecovered?: (what: string, failures: number) => void;
  /** How often a step that keeps failing is said again (default one minute). */
  repeatMs?: number;
  now?: () => number;
}

export class RepeatedFailures {
  private readonly failing = new Map<string, { said: number; failures: number }>();

  constructor(private readonly opts: RepeatedFailuresOptions) {}

  failed(what: string, err: unknown): void {
    const now = (this.opts.now ?? Date.now)();
    const f = this.failing.get(what);
    if (f === undefined) {
      this.failing.set(what, { said: now, failures: 1 });
      this.opts.onError?.(err, what);
      return;
    }
    f.failures++;
    if (now - f.said < (this.opts.repeatMs ?? 60_000)) return;
    f.said = now;
    this.opts.onError?.(err, what);
  }

  worked(what: string): void {
    const f = this.failing.get(what);
    if (f === undefined) return;
    this.failing.delete(what);
    this.opts.onRecovered?.(what, f.failures);
  }
}
