// Alerts that reach a person (docs/alerts.md): the severity and stable id of every alert, the
// notification channels (webhook, Slack- and Telegram-compatible webhooks, email over SMTP)
// with their filters, and the JSON body a webhook receives. One schema per shape; the API
// answers that carry them are in api.ts.
import { z } from 'zod';
import { AlertKind, type Alert } from './api.js';
import { Name } from './primitives.js';
import { issue, REQUIRED, said, sentence } from './problems.js';

export const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof Severity>;

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** How bad each kind of alert is: a channel's `min_severity` compares against this. */
export const ALERT_SEVERITY: Readonly<Record<AlertKind, Severity>> = {
  edge_down: 'critical',
  site_down: 'critical',
  dns_origin_fallback: 'critical',
  config_error: 'warning',
  cert_expiring: 'warning',
  dns_drift: 'warning',
  edge_bandwidth: 'warning',
};

export function atLeast(severity: Severity, min: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[min];
}

/**
 * The stable id of an alert: `kind:subject` (`edge_down:fra1`, `cert_expiring:shop.example`).
 * The same trouble keeps its id while its message changes (offline, then failing probes), so
 * it is one alert, one "firing" and one "resolved" message.
 */
export function alertId(alert: Pick<Alert, 'kind' | 'subject'>): string {
  return `${alert.kind}:${alert.subject}`;
}

export const ChannelType = z.enum(['webhook', 'slack', 'telegram', 'email']);
export type ChannelType = z.infer<typeof ChannelType>;

const HttpUrl = z
  .string()
  .url(sentence('http_url_scheme'))
  .refine((u) => /^https?:\/\//i.test(u), sentence('http_url_scheme'));
const Email = z.string().email(sentence('email_format'));

/** What a channel sends to, without its secret (the secret is sealed in the store, never shown). */
export const ChannelSettings = z.discriminatedUnion('type', [
  /** POST of the Notification JSON, signed with the channel's secret (HMAC-SHA256). */
  z.object({ type: z.literal('webhook'), url: HttpUrl }).strict(),
  /** Slack incoming webhook: the secret is the webhook URL itself. */
  z.object({ type: z.literal('slack') }).strict(),
  /** Telegram Bot API sendMessage: the secret is the bot token. */
  z
    .object({
      type: z.literal('telegram'),
      chat_id: z.string().min(1, REQUIRED),
      api_url: HttpUrl.default('https://api.telegram.org'),
    })
    .strict(),
  /** Email over SMTP; the secret is the SMTP password (none: no login). */
  z
    .object({
      type: z.literal('email'),
      host: z.string().min(1, REQUIRED),
      port: z.number().int().min(1).max(65535).default(587),
      /** `starttls`: upgrade on 587 (required), `tls`: TLS from the start (465), `none`: plain. */
      tls: z.enum(['starttls', 'tls', 'none']).default('starttls'),
      /**
       * The server's certificate is checked (a name and a chain to a trusted CA) unless this
       * says otherwise: `tls_ca` a PEM CA (or the self-signed certificate itself) to trust
       * besides the system's, `tls_allow_untrusted` accepts any certificate (the link is still
       * encrypted, but anyone on the path can read the password and the mail).
       */
      tls_ca: z
        .string()
        .max(65536)
        .regex(/-----BEGIN CERTIFICATE-----/, sentence('pem_certificate'))
        .optional(),
      tls_allow_untrusted: z.boolean().optional(),
      user: z.string().min(1).optional(),
      from: Email,
      to: z.array(Email).min(1, sentence('addresses_none')),
    })
    .strict(),
]);
export type ChannelSettings = z.infer<typeof ChannelSettings>;

/** Which alerts a channel hears of: these kinds (empty: all) at this severity or worse. */
export const ChannelFilter = z
  .object({
    kinds: z.array(AlertKind).default([]),
    min_severity: Severity.default('warning'),
  })
  .strict();
export type ChannelFilter = z.infer<typeof ChannelFilter>;

/** POST /v1/alerts/channels. */
export const ChannelCreate = z
  .object({
    name: Name,
    settings: ChannelSettings,
    /** The webhook's signing secret, the Slack webhook URL, the Telegram bot token, the SMTP password. */
    secret: z.string().min(1).max(4096).optional(),
  })
  .merge(ChannelFilter)
  .strict()
  .superRefine((c, ctx) => {
    const t = c.settings.type;
    if (c.secret === undefined && t !== 'email')
      ctx.addIssue(
        issue(said('channel_secret_missing', { type: t, what: SECRET_OF[t] }), ['secret']),
      );
    if (t === 'slack' && c.secret !== undefined && !HttpUrl.safeParse(c.secret).success)
      ctx.addIssue(issue(said('slack_secret_url'), ['secret']));
    if (t === 'email' && (c.secret === undefined) !== (c.settings.user === undefined))
      ctx.addIssue(
        issue(said('smtp_login_pair'), c.secret === undefined ? ['secret'] : ['settings', 'user']),
      );
    if (t === 'webhook' && c.secret !== undefined && c.secret.length < 16)
      ctx.addIssue(issue(said('webhook_secret_short'), ['secret']));
  });
export type ChannelCreate = z.infer<typeof ChannelCreate>;

export const SECRET_OF: Readonly<Record<ChannelType, string>> = {
  webhook: 'the signing secret, 16 characters or more',
  slack: 'the incoming webhook URL',
  telegram: 'the bot token',
  email: 'the SMTP password',
};

/** A channel as the API shows it: never its secret. */
export const ChannelInfo = z
  .object({
    name: z.string(),
    settings: ChannelSettings,
    has_secret: z.boolean(),
    kinds: z.array(AlertKind),
    min_severity: Severity,
    created_at: z.string(),
    /** The last delivery that reached the channel, and the last that did not (null: none). */
    last_sent_at: z.string().nullable(),
    last_error: z.string().nullable(),
  })
  .strict();
export type ChannelInfo = z.infer<typeof ChannelInfo>;

export const ChannelList = z.object({ channels: z.array(ChannelInfo) }).strict();
export type ChannelList = z.infer<typeof ChannelList>;
export const ChannelAnswer = z.object({ channel: ChannelInfo }).strict();
export type ChannelAnswer = z.infer<typeof ChannelAnswer>;
export const ChannelDeleted = z.object({ deleted: z.string() }).strict();
export type ChannelDeleted = z.infer<typeof ChannelDeleted>;
export const ChannelTested = z
  .object({ channel: z.string(), delivered: z.literal(true), id: z.string() })
  .strict();
export type ChannelTested = z.infer<typeof ChannelTested>;

/** One alert's change in a notification. */
export const AlertEvent = z
  .object({
    alert_id: z.string(),
    kind: AlertKind,
    severity: Severity,
    subject: z.string(),
    status: z.enum(['firing', 'resolved']),
    message: z.string(),
    /** When the trouble started (the first time the control plane saw the alert). */
    started_at: z.string(),
    /** When it fired (the "firing" message); a "resolved" goes only to channels told of it. */
    fired_at: z.string(),
    resolved_at: z.string().nullable(),
  })
  .strict();
export type AlertEvent = z.infer<typeof AlertEvent>;

/**
 * The body of a webhook delivery (JSON), grouped: the alert changes a channel had not heard of
 * yet, at most one message per channel per interval. `test` messages carry no events.
 */
export const Notification = z
  .object({
    /** Unique per delivery (retries of one delivery keep it: receivers may de-duplicate). */
    id: z.string(),
    type: z.enum(['alerts', 'test']),
    channel: z.string(),
    sent_at: z.string(),
    summary: z.string(),
    events: z.array(AlertEvent),
  })
  .strict();
export type Notification = z.infer<typeof Notification>;

/** An alert as the notifier tracks it (GET /v1/alerts). */
export const TrackedAlert = z
  .object({
    id: z.string(),
    kind: AlertKind,
    severity: Severity,
    subject: z.string(),
    message: z.string(),
    /** First seen by the notifier. */
    first_seen: z.string(),
    /** When channels were told it fires; null: not yet (it must last `fire_after` first). */
    fired_at: z.string().nullable(),
    /** When it stopped being raised; it resolves after `resolve_after` without coming back. */
    cleared_at: z.string().nullable(),
  })
  .strict();
export type TrackedAlert = z.infer<typeof TrackedAlert>;

export const AlertList = z.object({ alerts: z.array(TrackedAlert) }).strict();
export type AlertList = z.infer<typeof AlertList>;
