// Health states with hysteresis: a target goes down after N failed probes in a row and comes
// back up after M successes in a row, so one lost packet does not flap DNS or alerts. Pure.

export type Health = 'up' | 'degraded' | 'down' | 'unknown';

export interface ProbeResult {
  ok: boolean;
  /** Why it failed (timeout, TLS error, status code …) or what it saw. */
  reason: string;
  at: string;
  /** Milliseconds until the answer's headers (or the failure), when measured. */
  ms?: number;
}

export interface Transition {
  at: string;
  from: Health;
  to: Health;
  reason: string;
}

export interface TargetHealth {
  state: 'up' | 'down' | 'unknown';
  reason: string | null;
  since: string | null;
  last: ProbeResult | null;
  history: Transition[];
}

export interface Hysteresis {
  /** Failures in a row before an up target is down. */
  downAfter: number;
  /** Successes in a row before a down target is up. */
  upAfter: number;
}

export const DEFAULT_HYSTERESIS: Hysteresis = { downAfter: 2, upAfter: 2 };

interface Tracked extends TargetHealth {
  streak: number;
  streakOk: boolean;
}

const UNKNOWN: Pick<TargetHealth, 'state' | 'reason'> = Object.freeze({
  state: 'unknown',
  reason: null,
});

export class HealthBook {
  private readonly targets = new Map<string, Tracked>();
  /**
   * Grows whenever a target's state or reason changes or a target is forgotten: what was
   * computed from the book at one version still holds at the same version (status/service.ts).
   */
  version = 0;

  constructor(
    private readonly hysteresis: Hysteresis = DEFAULT_HYSTERESIS,
    private readonly keepHistory = 50,
  ) {}

  /** Records a probe of `target`; returns true when its state changed. */
  record(target: string, result: ProbeResult): boolean {
    const t: Tracked = this.targets.get(target) ?? {
      state: 'unknown',
      reason: null,
      since: null,
      last: null,
      history: [],
      streak: 0,
      streakOk: result.ok,
    };
    if (t.streakOk === result.ok) t.streak += 1;
    else {
      t.streak = 1;
      t.streakOk = result.ok;
    }
    t.last = result;
    const before = t.state;
    let next = t.state;
    if (t.state === 'unknown') next = result.ok ? 'up' : 'down';
    else if (t.state === 'up' && !result.ok && t.streak >= this.hysteresis.downAfter) next = 'down';
    else if (t.state === 'down' && result.ok && t.streak >= this.hysteresis.upAfter) next = 'up';
    if (next !== before) {
      t.state = next;
      t.since = result.at;
      t.reason = result.ok ? null : result.reason;
      t.history.push({ at: result.at, from: before, to: next, reason: result.reason });
      if (t.history.length > this.keepHistory) t.history.shift();
      this.version += 1;
    } else if (t.state === 'down' && !result.ok && t.reason !== result.reason) {
      t.reason = result.reason;
      this.version += 1;
    }
    this.targets.set(target, t);
    return next !== before;
  }

  get(target: string): TargetHealth {
    const t = this.targets.get(target);
    if (!t) return { state: 'unknown', reason: null, since: null, last: null, history: [] };
    return structuredClone({
      state: t.state,
      reason: t.reason,
      since: t.since,
      last: t.last,
      history: t.history,
    });
  }

  /** A target's state and reason as they are now: no copy, no history (status reads each pair). */
  peek(target: string): Pick<TargetHealth, 'state' | 'reason'> {
    return this.targets.get(target) ?? UNKNOWN;
  }

  /** Every target with a known state: its state, reason and since (no copies of history). */
  states(): {
    target: string;
    state: 'up' | 'down';
    reason: string | null;
    since: string | null;
  }[] {
    const out = [];
    for (const [target, t] of this.targets)
      if (t.state !== 'unknown')
        out.push({ target, state: t.state, reason: t.reason, since: t.since });
    return out;
  }

  /** Forgets targets that no longer exist. */
  retain(keep: (target: string) => boolean): void {
    for (const k of [...this.targets.keys()])
      if (!keep(k)) {
        this.targets.delete(k);
        this.version += 1;
      }
  }
}

/** Combines several targets: all up → up, none up → down, some → degraded. */
export function combine(states: Pick<TargetHealth, 'state' | 'reason'>[]): {
  health: Health;
  reason: string | null;
} {
  const known = states.filter((s) => s.state !== 'unknown');
  if (known.length === 0) return { health: 'unknown', reason: null };
  const down = known.filter((s) => s.state === 'down');
  if (down.length === 0) return { health: 'up', reason: null };
  const reason = down.map((s) => s.reason).find((r) => r !== null) ?? null;
  return { health: down.length === known.length ? 'down' : 'degraded', reason };
}
