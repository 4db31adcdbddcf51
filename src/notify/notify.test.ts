// The notifier against real receivers on loopback: an HTTP server (webhook, Slack, Telegram
// shapes) and a real SMTP server (smtp-server), over an in-memory store.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpReceiver, SmtpReceiver } from '../../test/support/receivers.js';
import { eventually } from '../../test/support/http.js';
import { selfSignedCertificate } from '../../test/support/tls.js';
import { ChannelCreate, Notification, type Alert, type TrackedAlert } from '../spec/index.js';
import { openStore, type Store } from '../store/index.js';
import { signBody, verifySignature } from './message.js';
import { NotifyService } from './service.js';
import { trackAlerts } from './tracker.js';

const SECRET = 'a-webhook-secret-of-32-characters';
const edgeDown = (
  subject: string,
  message = `edge ${subject} has not reported for 31 s`,
): Alert => ({
  kind: 'edge_down',
  subject,
  message,
  since: null,
});
const ev = { actor: 'test', action: 'alerts.channel.add', subject: '', detail: {} };
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('trackAlerts: fire after a while, resolve after a steady while', () => {
  const timings = { fireAfterMs: 30_000, resolveAfterMs: 60_000 };
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

  it('a flapping edge fires once and resolves once, after it stayed up', () => {
    // Down, up, down, up every 20 s for two minutes, then up for good.
    const seen: string[] = [];
    let tracked: TrackedAlert[] = [];
    for (let s = 0; s <= 300; s += 5) {
      const down = s < 120 && Math.floor(s / 20) % 2 === 0;
      const step = trackAlerts(tracked, down ? [edgeDown('fra1')] : [], at(s), timings);
      tracked = step.tracked;
      for (const e of step.events) seen.push(`${s}:${e.status}:${e.alert_id}`);
    }
    // Each fall (0-15, 40-55, 80-95 s) is shorter than fire_after, but it is one trouble
    // from its first sight: it fires at 40 s, when it is raised again 40 s after first seen.
    expect(seen[0]).toBe('40:firing:edge_down:fra1');
    expect(seen.filter((e) => e.includes('firing'))).toHaveLength(1);
    expect(seen.filter((e) => e.includes('resolved'))).toHaveLength(1);
    const resolvedAt = Number(seen.find((e) => e.includes('resolved'))?.split(':')[0]);
    // Last down at 95 s, so gone from 100 s; resolved 60 s later.
    expect(resolvedAt).toBe(160);
    expect(tracked).toEqual([]);
  });

  it('a blip shorter than fire_after sends nothing; the same id with new words is one alert', () => {
    let step = trackAlerts([], [edgeDown('fra1')], at(0), timings);
    expect(step.events).toEqual([]);
    step = trackAlerts(step.tracked, [], at(10), timings);
    expect(step.events).toEqual([]);
    step = trackAlerts(step.tracked, [], at(70), timings);
    expect(step).toEqual({ tracked: [], events: [] });

    step = trackAlerts([], [edgeDown('fra1')], at(0), timings);
    step = trackAlerts(
      step.tracked,
      [edgeDown('fra1', 'edge fra1 is down: ECONNREFUSED')],
      at(30),
      timings,
    );
    expect(step.events).toEqual([
      expect.objectContaining({
        alert_id: 'edge_down:fra1',
        status: 'firing',
        severity: 'critical',
        message: 'edge fra1 is down: ECONNREFUSED',
        started_at: at(0).toISOString(),
      }),
    ]);
    step = trackAlerts(
      step.tracked,
      [edgeDown('fra1', 'edge fra1 has not reported for 90 s')],
      at(60),
      timings,
    );
    expect(step.events).toEqual([]);
  });
});

describe('webhook signature', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('verifies the signed body at its time, and refuses another body, secret or an old one', () => {
    const body = '{"id":"x"}';
    const header = signBody(SECRET, body, now);
    expect(header).toMatch(/^t=1767225600,v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, header, body, now)).toBe(true);
    expect(verifySignature(SECRET, header, body, new Date(now.getTime() + 299_000))).toBe(true);
    expect(verifySignature(SECRET, header, '{"id":"y"}', now)).toBe(false);
    expect(verifySignature(`${SECRET}!`, header, body, now)).toBe(false);
    expect(verifySignature(SECRET, header, body, new Date(now.getTime() + 301_000))).toBe(false);
    // A replay with a fresh timestamp and the old signature:
    const replay = header.replace(/t=\d+/, `t=${1767225600 + 600}`);
    expect(verifySignature(SECRET, replay, body, new Date(now.getTime() + 600_000))).toBe(false);
    expect(verifySignature(SECRET, undefined, body, now)).toBe(false);
    expect(verifySignature(SECRET, 'garbage', body, now)).toBe(false);
  });
});

describe('channel settings', () => {
  const problems = (body: unknown) => {
    const r = ChannelCreate.safeParse(body);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  it('names the field at fault', () => {
    expect(problems({ name: 'ops', settings: { type: 'webhook', url: 'ftp://x' } })).toEqual([
      'settings.url: must be an http:// or https:// URL',
      'secret: a webhook channel needs a secret (the signing secret, 16 characters or more)',
    ]);
    expect(problems({ name: 'ops', settings: { type: 'slack' }, secret: 'not a url' })).toEqual([
      'secret: the secret of a slack channel is its webhook URL (https://…)',
    ]);
    expect(
      problems({
        name: 'm',
        settings: { type: 'email', host: 'mx', from: 'a@b.test', to: [], user: 'u' },
      }),
    ).toEqual([
      'settings.to: needs at least one address',
      'secret: an SMTP login needs both settings.user and the secret (its password)',
    ]);
    expect(
      problems({
        name: 'Ops!',
        settings: { type: 'webhook', url: 'http://x' },
        secret: SECRET,
        kinds: ['nope'],
      }),
    ).toHaveLength(2);
  });
});

describe('NotifyService', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(timings: Partial<NotifyService['timings']> = {}) {
    const store: Store = await openStore({ url: 'sqlite::memory:' });
    const raised: Alert[] = [];
    const notifier = new NotifyService({
      store,
      alerts: () => Promise.resolve([...raised]),
      logger: quiet,
      timings: {
        fireAfterMs: 0,
        resolveAfterMs: 0,
        minIntervalMs: 0,
        retryDelayMs: 50,
        checkIntervalMs: 60_000,
        ...timings,
      },
    });
    cleanup.push(async () => {
      await notifier.stop();
      await store.close();
    });
    return { store, raised, notifier };
  }

  async function receiver(): Promise<HttpReceiver> {
    const r = await new HttpReceiver().start();
    cleanup.push(() => r.close());
    return r;
  }

  it('sends a signed webhook for firing and resolved, retrying a failing receiver with the same id', async () => {
    const { store, raised, notifier } = await setup();
    const hook = await receiver();
    hook.failNext = 2;
    await store.createChannel(
      {
        name: 'ops',
        settings: { type: 'webhook', url: `${hook.url}/hook` },
        secret: SECRET,
        kinds: [],
        min_severity: 'warning',
      },
      ev,
    );
    raised.push(edgeDown('fra1'));
    expect((await notifier.tick()).map((e) => e.status)).toEqual(['firing']);
    await eventually('three attempts', async () => (hook.requests.length === 3 ? true : undefined));
    const ids = hook.requests.map((r) => r.headers['x-outpost-delivery']);
    expect(new Set(ids).size).toBe(1);
    for (const r of hook.requests) {
      expect(r.path).toBe('/hook');
      expect(
        verifySignature(SECRET, r.headers['x-outpost-signature'] as string, r.body, new Date()),
      ).toBe(true);
    }
    const firing = Notification.parse(JSON.parse(hook.requests[2]?.body ?? ''));
    expect(firing).toMatchObject({
      type: 'alerts',
      channel: 'ops',
      summary: '[Outpost] FIRING critical edge_down:fra1: edge fra1 has not reported for 31 s',
    });
    expect(firing.events).toEqual([
      expect.objectContaining({ alert_id: 'edge_down:fra1', status: 'firing' }),
    ]);
    await eventually('the delivery noted', async () =>
      (await store.getChannel('ops'))?.last_sent_at ? true : undefined,
    );

    raised.length = 0;
    expect((await notifier.tick()).map((e) => e.status)).toEqual(['resolved']);
    await eventually('the resolved message', async () =>
      hook.requests.length === 4 ? true : undefined,
    );
    const resolved = Notification.parse(JSON.parse(hook.requests[3]?.body ?? ''));
    expect(resolved.events).toEqual([
      expect.objectContaining({ alert_id: 'edge_down:fra1', status: 'resolved' }),
    ]);
    expect(await notifier.tick()).toEqual([]);
    expect(hook.requests).toHaveLength(4);
  });

  it('groups what happens within a channel interval into one message, and filters by kind and severity', async () => {
    const { store, raised, notifier } = await setup({ minIntervalMs: 1_500 });
    const all = await receiver();
    const certs = await receiver();
    const base = { secret: SECRET, min_severity: 'warning' as const };
    await store.createChannel(
      { ...base, name: 'all', settings: { type: 'webhook', url: all.url }, kinds: [] },
      ev,
    );
    await store.createChannel(
      {
        ...base,
        name: 'certs',
        settings: { type: 'webhook', url: certs.url },
        kinds: ['cert_expiring'],
      },
      ev,
    );
    await store.createChannel(
      {
        ...base,
        name: 'critical',
        settings: { type: 'webhook', url: certs.url },
        kinds: ['cert_expiring'],
        min_severity: 'critical',
      },
      ev,
    );
    raised.push(edgeDown('fra1'));
    await notifier.tick();
    await eventually('the first message', async () =>
      all.requests.length === 1 ? true : undefined,
    );
    // Within the interval: two more changes, one message after it.
    raised.push(edgeDown('hk1'), {
      kind: 'cert_expiring',
      subject: 'shop.test',
      message: 'expires in 5 days',
      since: null,
    });
    await notifier.tick();
    raised.splice(0, 1);
    await notifier.tick();
    await new Promise((r) => setTimeout(r, 500));
    expect(all.requests).toHaveLength(1);
    await eventually(
      'the grouped message',
      async () => (all.requests.length === 2 ? true : undefined),
      5_000,
    );
    const grouped = Notification.parse(JSON.parse(all.requests[1]?.body ?? ''));
    expect(grouped.events.map((e) => `${e.status} ${e.alert_id}`)).toEqual([
      'firing cert_expiring:shop.test',
      'firing edge_down:hk1',
      'resolved edge_down:fra1',
    ]);
    expect(grouped.summary).toBe('[Outpost] 3 alerts: 2 firing, 1 resolved');
    // `certs` hears of the certificate only; `critical` not at all (cert_expiring is a warning).
    await eventually('the certs message', async () =>
      certs.requests.length === 1 ? true : undefined,
    );
    const c = Notification.parse(JSON.parse(certs.requests[0]?.body ?? ''));
    expect(c.channel).toBe('certs');
    expect(c.events.map((e) => e.alert_id)).toEqual(['cert_expiring:shop.test']);
    await new Promise((r) => setTimeout(r, 300));
    expect(certs.requests).toHaveLength(1);
  });

  it('gives up after the attempts, notes the error on the channel, and a 4xx is not retried', async () => {
    const { store, raised, notifier } = await setup({ attempts: 3 });
    const hook = await receiver();
    hook.failNext = 100;
    hook.failStatus = 500;
    await store.createChannel(
      {
        name: 'ops',
        settings: { type: 'webhook', url: hook.url },
        secret: SECRET,
        kinds: [],
        min_severity: 'info',
      },
      ev,
    );
    raised.push(edgeDown('fra1'));
    await notifier.tick();
    await eventually(
      'the error noted',
      async () => (await store.getChannel('ops'))?.last_error ?? undefined,
    );
    expect(hook.requests).toHaveLength(3);
    expect((await store.getChannel('ops'))?.last_error).toBe('the receiver answered HTTP 500');

    hook.requests.length = 0;
    hook.failStatus = 404;
    raised.length = 0;
    await notifier.tick();
    await eventually('the 404 noted', async () =>
      (await store.getChannel('ops'))?.last_error === 'the receiver answered HTTP 404'
        ? true
        : undefined,
    );
    expect(hook.requests).toHaveLength(1);
  });

  it('Slack and Telegram get their documented bodies; a test message names no secret when it fails', async () => {
    const { store, notifier } = await setup();
    const chat = await receiver();
    const slackUrl = `${chat.url}/services/T000/B000/XXXXSECRET`;
    const botToken = '123456:ABC-the-bot-token';
    await store.createChannel(
      {
        name: 'slack',
        settings: { type: 'slack' },
        secret: slackUrl,
        kinds: [],
        min_severity: 'warning',
      },
      ev,
    );
    await store.createChannel(
      {
        name: 'tg',
        settings: { type: 'telegram', chat_id: '-10042', api_url: chat.url },
        secret: botToken,
        kinds: [],
        min_severity: 'warning',
      },
      ev,
    );
    expect(await notifier.test('slack')).toMatchObject({ channel: 'slack', delivered: true });
    expect(await notifier.test('tg')).toMatchObject({ channel: 'tg', delivered: true });
    expect(chat.requests.map((r) => r.path)).toEqual([
      '/services/T000/B000/XXXXSECRET',
      `/bot${botToken}/sendMessage`,
    ]);
    const [slackBody, tgBody] = chat.requests.map(
      (r) => JSON.parse(r.body) as Record<string, unknown>,
    );
    expect(Object.keys(slackBody ?? {})).toEqual(['text']);
    expect(slackBody?.text).toMatch(/^\[Outpost\] Test message for channel slack\n/);
    expect(tgBody?.chat_id).toBe('-10042');
    expect(tgBody?.text).toMatch(/^\[Outpost\] Test message for channel tg/);
    expect(Object.keys(tgBody ?? {}).sort()).toEqual(['chat_id', 'text']);

    // The Bot API says no: its description, not the token.
    chat.answer = { ok: false, description: 'Bad Request: chat not found' };
    await expect(notifier.test('tg')).rejects.toThrow(
      'the test message did not reach channel tg: the Bot API refused the message: Bad Request: chat not found',
    );
    // The receiver is gone: the error names neither the Slack URL nor the token.
    await chat.close();
    for (const name of ['slack', 'tg']) {
      const err = await notifier.test(name).catch((e: unknown) => e as Error);
      expect(err).toMatchObject({ code: 'notification_failed' });
      expect((err as Error).message).toMatch(/the request failed: (ECONNREFUSED|UND_ERR_SOCKET)/);
      expect((err as Error).message).not.toContain('XXXXSECRET');
      expect((err as Error).message).not.toContain(botToken);
      expect((await store.getChannel(name))?.last_error).not.toContain('SECRET');
    }
    await expect(notifier.test('nope')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('sends email over SMTP with the summary as the subject, logged in', async () => {
    const smtp = await new SmtpReceiver({ user: 'outpost', pass: 'smtp-password' }).start();
    cleanup.push(() => smtp.close());
    const { store, raised, notifier } = await setup();
    await store.createChannel(
      {
        name: 'mail',
        settings: {
          type: 'email',
          host: '127.0.0.1',
          port: smtp.port,
          tls: 'none',
          user: 'outpost',
          from: 'outpost@cdn.test',
          to: ['ops@cdn.test', 'oncall@cdn.test'],
        },
        secret: 'smtp-password',
        kinds: ['edge_down'],
        min_severity: 'critical',
      },
      ev,
    );
    raised.push(edgeDown('fra1'));
    await notifier.tick();
    await eventually('the mail', async () => (smtp.messages.length === 1 ? true : undefined));
    const [mail] = smtp.messages;
    expect(mail).toMatchObject({
      from: 'outpost@cdn.test',
      to: ['ops@cdn.test', 'oncall@cdn.test'],
      user: 'outpost',
    });
    expect(mail?.subject).toBe(
      '[Outpost] FIRING critical edge_down:fra1: edge fra1 has not reported for 31 s',
    );
    expect(mail?.raw).toContain('Sent ');

    // A wrong password: the SMTP error, retried no more (535 is permanent), never the password.
    await store.createChannel(
      {
        name: 'badmail',
        settings: {
          type: 'email',
          host: '127.0.0.1',
          port: smtp.port,
          tls: 'none',
          user: 'outpost',
          from: 'outpost@cdn.test',
          to: ['ops@cdn.test'],
        },
        secret: 'wrong-password',
        kinds: [],
        min_severity: 'info',
      },
      ev,
    );
    const err = await notifier.test('badmail').catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(
      /^the test message did not reach channel badmail: SMTP: EAUTH 535/,
    );
    expect((err as Error).message).not.toContain('wrong-password');
  });

  it('sends email over STARTTLS: the certificate is checked, trusted by tls_ca or explicitly allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-smtp-tls-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const { certFile, keyFile } = selfSignedCertificate(dir, ['127.0.0.1']);
    const cert = readFileSync(certFile, 'utf8');
    const smtp = await new SmtpReceiver(
      { user: 'outpost', pass: 'smtp-password' },
      { key: readFileSync(keyFile, 'utf8'), cert },
    ).start();
    cleanup.push(() => smtp.close());
    const { store, notifier } = await setup();
    const mail = async (name: string, more: Record<string, unknown>, port = smtp.port) =>
      store.createChannel(
        {
          name,
          settings: {
            type: 'email',
            host: '127.0.0.1',
            port,
            tls: 'starttls',
            user: 'outpost',
            from: 'outpost@cdn.test',
            to: ['ops@cdn.test'],
            ...more,
          },
          secret: 'smtp-password',
          kinds: [],
          min_severity: 'info',
        },
        ev,
      );
    // A self-signed certificate nobody said to trust: refused before the password is sent.
    await mail('untrusted', {});
    const refused = await notifier.test('untrusted').catch((e: unknown) => e as Error);
    expect((refused as Error).message).toMatch(
      /^the test message did not reach channel untrusted: SMTP: ESOCKET .*self[- ]signed certificate/,
    );
    expect(smtp.messages).toHaveLength(0);
    // Trusted through tls_ca (the certificate itself): sent over the encrypted session.
    await mail('trusted', { tls_ca: cert });
    await notifier.test('trusted');
    await eventually('the mail', async () => (smtp.messages.length === 1 ? true : undefined));
    expect(smtp.messages[0]).toMatchObject({ user: 'outpost', secure: true, to: ['ops@cdn.test'] });
    // Another certificate as tls_ca does not make this one trusted.
    const other = selfSignedCertificate(dir, ['127.0.0.1'], { file: 'other' });
    await mail('wrong-ca', { tls_ca: readFileSync(other.certFile, 'utf8') });
    await expect(notifier.test('wrong-ca')).rejects.toThrow(/ESOCKET/);
    // Explicitly allowed: any certificate, still encrypted.
    await mail('allowed', { tls_allow_untrusted: true });
    await notifier.test('allowed');
    await eventually('the second mail', async () =>
      smtp.messages.length === 2 ? true : undefined,
    );
    expect(smtp.messages[1]?.secure).toBe(true);
    // STARTTLS is required: a server that does not offer it gets nothing (no plain fallback).
    const plain = await new SmtpReceiver({ user: 'outpost', pass: 'smtp-password' }).start();
    cleanup.push(() => plain.close());
    await mail('no-starttls', { tls_allow_untrusted: true }, plain.port);
    await expect(notifier.test('no-starttls')).rejects.toThrow(/STARTTLS/);
    expect(plain.messages).toHaveLength(0);
    // A tls_ca that is not a certificate is refused with its path.
    expect(
      ChannelCreate.safeParse({
        name: 'x',
        settings: {
          type: 'email',
          host: 'mx',
          from: 'a@b.test',
          to: ['c@d.test'],
          tls_ca: 'not pem',
        },
      }).error?.issues[0],
    ).toMatchObject({ path: ['settings', 'tls_ca'], message: 'must be a PEM certificate' });
  });

  it('a channel added while an alert fires is not sent its "resolved"', async () => {
    const { store, raised, notifier } = await setup();
    const hook = await receiver();
    raised.push(edgeDown('fra1'));
    expect((await notifier.tick()).map((e) => e.status)).toEqual(['firing']);
    await new Promise((r) => setTimeout(r, 5));
    await store.createChannel(
      {
        name: 'late',
        settings: { type: 'webhook', url: hook.url },
        secret: SECRET,
        kinds: [],
        min_severity: 'info',
      },
      ev,
    );
    raised.length = 0;
    expect((await notifier.tick()).map((e) => e.status)).toEqual(['resolved']);
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.requests).toEqual([]);
  });

  it('keeps what it tracks across a restart: no second "firing", the "resolved" still comes', async () => {
    const { store, raised, notifier } = await setup();
    const hook = await receiver();
    await store.createChannel(
      {
        name: 'ops',
        settings: { type: 'webhook', url: hook.url },
        secret: SECRET,
        kinds: [],
        min_severity: 'info',
      },
      ev,
    );
    raised.push(edgeDown('fra1'));
    await notifier.tick();
    await eventually('firing', async () => (hook.requests.length === 1 ? true : undefined));
    await notifier.stop();
    const again = new NotifyService({
      store,
      alerts: () => Promise.resolve([...raised]),
      logger: quiet,
      timings: { fireAfterMs: 0, resolveAfterMs: 0, minIntervalMs: 0, checkIntervalMs: 60_000 },
    });
    cleanup.push(() => again.stop());
    await again.start();
    expect(await again.tick()).toEqual([]);
    raised.length = 0;
    expect((await again.tick()).map((e) => e.status)).toEqual(['resolved']);
    await eventually('resolved', async () => (hook.requests.length === 2 ? true : undefined));
  });
});
