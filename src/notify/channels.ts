// One sender per channel type, in a registry keyed by type. Each takes the channel (with its
// secret opened) and a notification, and throws a DeliveryError whose message never holds the
// secret (the Slack URL and the Telegram token are secrets; errors are scrubbed of them).
import * as tls from 'node:tls';
import nodemailer from 'nodemailer';
import type { ChannelSettings, ChannelType, Notification } from '../spec/index.js';
import { SIGNATURE_HEADER, signBody, textOf } from './message.js';

export class DeliveryError extends Error {
  constructor(
    message: string,
    /** False: retrying cannot help (a 4xx answer other than 408/429). */
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface ChannelTarget<S extends ChannelSettings = ChannelSettings> {
  name: string;
  settings: S;
  secret: string | null;
}

export type Sender<T extends ChannelType> = (
  channel: ChannelTarget<Extract<ChannelSettings, { type: T }>>,
  notification: Notification,
  now: Date,
) => Promise<void>;

export interface SendOptions {
  /** How long one attempt may take. */
  timeoutMs: number;
}

const USER_AGENT = 'Outpost-Notifier';

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  o: SendOptions,
): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(o.timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why =
      (err as Error).name === 'TimeoutError'
        ? `no answer within ${o.timeoutMs} ms`
        : (cause?.code ?? cause?.message ?? (err as Error).message);
    throw new DeliveryError(`the request failed: ${why}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new DeliveryError(`the receiver answered HTTP ${res.status}`, retryable);
  }
  return res;
}

export function senders(o: SendOptions): { [T in ChannelType]: Sender<T> } {
  return {
    async webhook(channel, n, now) {
      const body = JSON.stringify(n);
      const res = await post(
        channel.settings.url,
        body,
        {
          [SIGNATURE_HEADER]: signBody(channel.secret ?? '', body, now),
          'x-outpost-delivery': n.id,
        },
        o,
      );
      await res.body?.cancel();
    },

    // Slack incoming webhooks: POST {"text": …} as JSON to the webhook URL (docs.slack.dev,
    // "Incoming webhooks": `curl -X POST -H 'Content-type: application/json' -d
    // '{"text":"Hello, World!"}' <webhook URL>`). Mattermost and Rocket.Chat take the same.
    async slack(channel, n) {
      const res = await post(channel.secret ?? '', JSON.stringify({ text: textOf(n) }), {}, o);
      await res.body?.cancel();
    },

    // Telegram Bot API: POST https://api.telegram.org/bot<token>/sendMessage with JSON
    // {chat_id, text}; the answer is {"ok": true, …} or {"ok": false, "description": …}
    // (core.telegram.org/bots/api, "Making requests" and "sendMessage").
    async telegram(channel, n) {
      const base = channel.settings.api_url.replace(/\/+$/, '');
      const url = `${base}/bot${channel.secret ?? ''}/sendMessage`;
      const body = JSON.stringify({ chat_id: channel.settings.chat_id, text: textOf(n) });
      const res = await post(url, body, {}, o);
      const answer = (await res.json().catch(() => ({}))) as { ok?: boolean; description?: string };
      if (answer.ok !== true)
        throw new DeliveryError(
          `the Bot API refused the message: ${answer.description ?? 'no "ok": true'}`,
          false,
        );
    },

    async email(channel, n) {
      const s = channel.settings;
      const transport = nodemailer.createTransport({
        host: s.host,
        port: s.port,
        secure: s.tls === 'tls',
        requireTLS: s.tls === 'starttls',
        ignoreTLS: s.tls === 'none',
        // Node's default checks the certificate's chain and name; a PEM CA adds to the trusted
        // ones, and only an explicit tls_allow_untrusted turns the check off.
        tls: {
          ...(s.tls_ca !== undefined ? { ca: [...tls.rootCertificates, s.tls_ca] } : {}),
          rejectUnauthorized: s.tls_allow_untrusted !== true,
        },
        ...(s.user !== undefined ? { auth: { user: s.user, pass: channel.secret ?? '' } } : {}),
        connectionTimeout: o.timeoutMs,
        greetingTimeout: o.timeoutMs,
        socketTimeout: o.timeoutMs,
      });
      try {
        await transport.sendMail({
          from: s.from,
          to: s.to,
          subject: n.summary,
          text: textOf(n),
          headers: { 'X-Outpost-Notification': n.id },
        });
      } catch (err) {
        const e = err as { code?: string; responseCode?: number; message?: string };
        const permanent = e.responseCode !== undefined && e.responseCode >= 500;
        throw new DeliveryError(
          `SMTP: ${e.code ?? 'error'} ${e.responseCode ?? ''} ${e.message ?? ''}`.trim(),
          !permanent,
        );
      } finally {
        transport.close();
      }
    },
  };
}

/** Sends `n` through `channel`; the error's message is scrubbed of the channel's secret. */
export async function deliver(
  registry: ReturnType<typeof senders>,
  channel: ChannelTarget,
  n: Notification,
  now: Date,
): Promise<void> {
  try {
    // The registry is keyed by type, so each sender gets the settings of its own type.
    const send = registry[channel.settings.type] as (
      c: ChannelTarget,
      n: Notification,
      now: Date,
    ) => Promise<void>;
    await send(channel, n, now);
  } catch (err) {
    const message = scrub(err instanceof Error ? err.message : String(err), channel.secret);
    throw new DeliveryError(message, err instanceof DeliveryError ? err.retryable : true);
  }
}

export function scrub(text: string, secret: string | null): string {
  if (secret === null || secret.length < 4) return text;
  return text.split(secret).join('[secret]');
}
