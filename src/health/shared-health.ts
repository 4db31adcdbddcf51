// Health from the probes of every control plane on one database (issue 19,
// docs/high-availability.md "Health probes"). Each control plane probes every target itself;
// after each round it writes its states (with their hysteresis) and a heartbeat saying until
// when they count, reads the others' fresh states, and answers health from the merged view:
// /v1/status, the public page, history, alerts and notifications all read it, on every
// control plane, so the leader's singletons see what the status shows.
//
// The rule (mergeHealth, pure): each fresh observer (this control plane, and every other one
// whose heartbeat has not run out) with a known state has one vote; a target is down when
// more than half of the votes say down, else up. So a control plane cut off from the edges
// (its own network partition) cannot mark them down while the others reach them; with two
// control planes a target is down only when both say so; when all but one have stopped, that
// one decides alone. An observer counts until `fresh_until`: twice its probe interval plus
// its last round's length, plus one probe timeout, after its last round (10 s and 5 s: about
// 25 s). Clocks of the control planes must agree (NTP) to well under that.
//
// Alone (SQLite, no coordination): nothing is written or read; health is this process's own.
//
// The database down (docs/high-availability.md "When PostgreSQL is down"): the probes go on
// (the prober probes the targets of the last state it read); a round's write and read fail
// and are tried again at the next round (what was not written is written then); the others'
// last states count until their heartbeats run out, then this control plane decides alone.
// Each failing step is logged when it starts failing, again once a minute, and once when it
// works again (RepeatedFailures), not once per round.
import { EventEmitter } from 'node:events';
import type { ProbeObservation, ProbeQueries } from '../store/types.js';
import { RepeatedFailures } from './failures.js';
import type { TargetHealth } from './health-book.js';
import type { Prober } from './prober.js';

export type Observation = Omit<ProbeObservation, 'target'>;

/** Observers whose heartbeat ran out this long ago are deleted (rows and all). */
const FORGET_AFTER_MS = 60 * 60 * 1000;

/** The merged health of one target: the majority of fresh votes (see above). Pure. */
export function mergeHealth(own: TargetHealth, others: readonly Observation[]): TargetHealth {
  const votes: Observation[] = [...others];
  if (own.state !== 'unknown') votes.unshift(own as Observation);
  if (votes.length === 0) return own;
  const down = votes.filter((v) => v.state === 'down').length;
  const state = down * 2 > votes.length ? 'down' : 'up';
  if (own.state === state) return own;
  const from = votes.find((v) => v.state === state) as Observation;
  return {
    state,
    reason: state === 'down' ? from.reason : null,
    since: from.since,
    last: own.last,
    history: own.history,
  };
}

interface Observer {
  instance: string;
  freshUntil: number;
  states: Map<string, Observation>;
}

export interface SharedHealthOptions {
  prober: Prober;
  /** The store's probe queries; absent with `instance`: alone, nothing shared. */
  store: ProbeQueries;
  /** This control plane's id among the others (undefined: alone). */
  instance: string | undefined;
  onError?: (err: unknown, what: string) => void;
  /**
   * Where failing steps are told (once when they start, once when they work again); default:
   * one built on `onError`. The control plane passes the one its prober tells too.
   */
  failures?: RepeatedFailures;
  now?: () => Date;
}

/** The steps of a round that may fail (their names are the log's words). */
export const WRITING_PROBES = 'writing this control plane’s probes';
export const READING_PROBES = 'reading the other control planes’ probes';

/** The health every reader uses; emits `changed` when a merged state changes. */
export class SharedHealth extends EventEmitter {
  private others: Observer[] = [];
  /** What this control plane last wrote, by target ("state reason since"). */
  private written = new Map<string, string>();
  /** The merged states at the last round, to tell listeners of a change. */
  private merged = new Map<string, string>();
  private syncing: Promise<void> | undefined;
  private readonly now: () => Date;
  private readonly failures: RepeatedFailures;

  constructor(private readonly opts: SharedHealthOptions) {
    super();
    this.now = opts.now ?? (() => new Date());
    this.failures =
      opts.failures ??
      new RepeatedFailures(opts.onError !== undefined ? { onError: opts.onError } : {});
    opts.prober.on('changed', () => this.emit('changed'));
    if (opts.instance !== undefined)
      opts.prober.on('round', (ms: number) => {
        this.syncing ??= this.sync(ms).finally(() => (this.syncing = undefined));
      });
  }

  get(target: string): TargetHealth {
    const own = this.opts.prober.book.get(target);
    if (this.opts.instance === undefined) return own;
    const now = this.now().getTime();
    const others: Observation[] = [];
    for (const o of this.others) {
      if (o.freshUntil <= now) continue;
      const s = o.states.get(target);
      if (s !== undefined) others.push(s);
    }
    return mergeHealth(own, others);
  }

  /**
   * `get` without its copy of the history: alone, this control plane's own book as it is;
   * with others, the merged state (the status reads one per site and edge).
   */
  peek(target: string): Pick<TargetHealth, 'state' | 'reason'> {
    if (this.opts.instance === undefined) return this.opts.prober.book.peek(target);
    return this.get(target);
  }

  /**
   * Changes whenever `peek` may answer differently: alone, the book's version; with other
   * control planes, undefined (their votes stop counting with time, so nothing is reused).
   */
  version(): number | undefined {
    return this.opts.instance === undefined ? this.opts.prober.book.version : undefined;
  }

  /** Resolves when the writing and reading after the last round are done. */
  async settled(): Promise<void> {
    await this.syncing;
  }

  /** How many other control planes' probes count now. */
  freshObservers(): number {
    const now = this.now().getTime();
    return this.others.filter((o) => o.freshUntil > now).length;
  }

  async start(): Promise<void> {
    await this.opts.prober.start();
  }

  async stop(): Promise<void> {
    await this.opts.prober.stop();
    await this.syncing;
    const instance = this.opts.instance;
    if (instance !== undefined)
      await this.opts.store
        .dropProbeObserver(instance)
        .catch((err: unknown) => this.opts.onError?.(err, 'removing this control plane’s probes'));
  }

  /** After a round: write what changed and the heartbeat, read the others, tell listeners. */
  private async sync(roundMs: number): Promise<void> {
    const instance = this.opts.instance as string;
    const { intervalMs, timeoutMs } = this.opts.prober.timings;
    const now = this.now();
    const current = new Map<string, string>();
    const changed: ProbeObservation[] = [];
    for (const s of this.opts.prober.book.states()) {
      const key = `${s.state} ${s.since ?? ''} ${s.reason ?? ''}`;
      current.set(s.target, key);
      if (this.written.get(s.target) !== key) changed.push(s);
    }
    const removed = [...this.written.keys()].filter((t) => !current.has(t));
    const freshFor = 2 * (intervalMs + roundMs) + timeoutMs;
    try {
      await this.opts.store.saveProbeRound({
        instance,
        at: now.toISOString(),
        freshUntil: new Date(now.getTime() + freshFor).toISOString(),
        changed,
        removed,
        forgetBefore: new Date(now.getTime() - FORGET_AFTER_MS).toISOString(),
      });
      this.written = current;
      this.failures.worked(WRITING_PROBES);
    } catch (err) {
      this.failures.failed(WRITING_PROBES, err);
    }
    try {
      const fresh = await this.opts.store.freshProbeObservations(now.toISOString(), instance);
      this.others = fresh.map((o) => ({
        instance: o.instance,
        freshUntil: Date.parse(o.freshUntil),
        states: new Map(o.observations.map(({ target, ...rest }) => [target, rest])),
      }));
      this.failures.worked(READING_PROBES);
    } catch (err) {
      // Not read: the others' last states still count until their heartbeats run out.
      this.failures.failed(READING_PROBES, err);
    }
    const targets = new Set([
      ...current.keys(),
      ...this.others.flatMap((o) => [...o.states.keys()]),
    ]);
    const merged = new Map<string, string>();
    for (const t of targets) merged.set(t, this.get(t).state);
    let differs = merged.size !== this.merged.size;
    for (const [t, s] of merged) if (this.merged.get(t) !== s) differs = true;
    this.merged = merged;
    if (differs) this.emit('changed');
  }
}
