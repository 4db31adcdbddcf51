// Which alerts fire and resolve, from the alerts the status raises over time. Pure: the tracked
// alerts, the alerts raised now and the clock in; the next tracked alerts and the changes that
// channels must hear of out. This is where flapping is absorbed:
// - an alert fires when it is raised and was first seen `fireAfterMs` ago or more;
// - an alert that is gone is kept for `resolveAfterMs`: if it comes back meanwhile it is the
//   same alert (same first sight), so an edge that flaps fires once (even when each fall is
//   shorter than `fireAfterMs`) and sends nothing more while it flaps;
// - once gone for `resolveAfterMs`, a fired alert resolves (one message) and one that never
//   fired (a single blip) is forgotten without a word;
// - the id (kind:subject) is the alert: a new message for the same trouble is not a new alert.
import {
  ALERT_SEVERITY,
  alertId,
  type Alert,
  type AlertEvent,
  type TrackedAlert,
} from '../spec/index.js';

export interface TrackerTimings {
  /** An alert must be raised this long before it fires. */
  fireAfterMs: number;
  /** A fired alert must be gone this long before it resolves. */
  resolveAfterMs: number;
}

export interface TrackStep {
  tracked: TrackedAlert[];
  events: AlertEvent[];
}

export function trackAlerts(
  previous: readonly TrackedAlert[],
  raised: readonly Alert[],
  now: Date,
  timings: TrackerTimings,
): TrackStep {
  const at = now.toISOString();
  const t = now.getTime();
  const current = new Map<string, Alert>();
  for (const a of raised) if (!current.has(alertId(a))) current.set(alertId(a), a);
  const known = new Map(previous.map((p) => [p.id, p]));
  const tracked: TrackedAlert[] = [];
  const events: AlertEvent[] = [];

  for (const [id, alert] of current) {
    const before = known.get(id);
    const next: TrackedAlert = before
      ? { ...before, cleared_at: null, message: before.fired_at ? before.message : alert.message }
      : {
          id,
          kind: alert.kind,
          severity: ALERT_SEVERITY[alert.kind],
          subject: alert.subject,
          message: alert.message,
          first_seen: at,
          fired_at: null,
          cleared_at: null,
        };
    if (next.fired_at === null && t - Date.parse(next.first_seen) >= timings.fireAfterMs) {
      next.fired_at = at;
      // The latest words for the trouble at the time it is told.
      next.message = alert.message;
      events.push(eventOf(next, 'firing', null));
    }
    tracked.push(next);
  }

  for (const before of previous) {
    if (current.has(before.id)) continue;
    const cleared = before.cleared_at ?? at;
    if (t - Date.parse(cleared) >= timings.resolveAfterMs) {
      // A fired alert resolves; a blip that never fired is forgotten without a word.
      if (before.fired_at !== null) events.push(eventOf(before, 'resolved', at));
      continue;
    }
    tracked.push({ ...before, cleared_at: cleared });
  }
  tracked.sort((a, b) => byString(a.id, b.id));
  events.sort((a, b) => byString(a.status, b.status) || byString(a.alert_id, b.alert_id));
  return { tracked, events };
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function eventOf(
  a: TrackedAlert,
  status: AlertEvent['status'],
  resolvedAt: string | null,
): AlertEvent {
  return {
    alert_id: a.id,
    kind: a.kind,
    severity: a.severity,
    subject: a.subject,
    status,
    message: a.message,
    started_at: a.first_seen,
    fired_at: a.fired_at ?? a.first_seen,
    resolved_at: resolvedAt,
  };
}
