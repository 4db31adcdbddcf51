// What a notification says: one JSON body (webhooks), one line of summary and a plain-text body
// (Slack, Telegram, email), and the webhook signature. Pure.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AlertEvent, Notification } from '../spec/index.js';

export function buildNotification(
  channel: string,
  events: readonly AlertEvent[],
  now: Date,
): Notification {
  return {
    id: randomUUID(),
    type: 'alerts',
    channel,
    sent_at: now.toISOString(),
    summary: summaryOf(events),
    events: [...events],
  };
}

export function testNotification(channel: string, now: Date): Notification {
  return {
    id: randomUUID(),
    type: 'test',
    channel,
    sent_at: now.toISOString(),
    summary: `[Outpost] Test message for channel ${channel}`,
    events: [],
  };
}

function eventLine(e: AlertEvent): string {
  return e.status === 'firing'
    ? `FIRING ${e.severity} ${e.alert_id}: ${e.message}`
    : `RESOLVED ${e.alert_id} (since ${e.started_at}): ${e.message}`;
}

/** `[Outpost] FIRING edge_down:fra1: …`, or a count for a group. It is the email's subject. */
export function summaryOf(events: readonly AlertEvent[]): string {
  const [only] = events;
  if (events.length === 1 && only) return `[Outpost] ${eventLine(only)}`;
  const firing = events.filter((e) => e.status === 'firing').length;
  return `[Outpost] ${events.length} alerts: ${firing} firing, ${events.length - firing} resolved`;
}

/** The text of a Slack or Telegram message and of an email: the summary, then one line each. */
export function textOf(n: Notification): string {
  if (n.type === 'test')
    return `${n.summary}\nSent ${n.sent_at}: notifications of this channel reach you.`;
  if (n.events.length === 1) return `${n.summary}\nSent ${n.sent_at}.`;
  return [n.summary, ...n.events.map((e) => `- ${eventLine(e)}`), `Sent ${n.sent_at}.`].join('\n');
}

export const SIGNATURE_HEADER = 'x-outpost-signature';
/** How far a signature's timestamp may be from the receiver's clock (replays are refused). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the timestamp is signed with
 * the body, so a captured delivery cannot be replayed later with a fresh timestamp.
 */
export function signBody(secret: string, body: string, now: Date): string {
  const t = Math.floor(now.getTime() / 1000);
  return `t=${t},v1=${hmac(secret, `${t}.${body}`)}`;
}

function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

/** What a receiver does (docs/alerts.md): true for a body signed with `secret` recently. */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  now: Date,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): boolean {
  const parts = new Map(
    (header ?? '').split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return false;
  return timingSafeEqual(Buffer.from(hmac(secret, `${t}.${body}`), 'hex'), Buffer.from(v1, 'hex'));
}
