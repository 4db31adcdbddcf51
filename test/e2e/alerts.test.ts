// Alerts that reach a person, on a real CDN: a control plane (`outpost serve`), a real nginx
// edge driven by a real agent, a webhook receiver and a real SMTP server on loopback. The edge
// stops (agent and nginx) for about a minute and comes back: the webhook gets exactly one
// "firing" and one "resolved" for edge_down:ed1, each with a valid signature, and so does the
// mailbox (subjects). Channels are added and tested through the CLI; the secret never in argv.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/notify/message.js';
import { ChannelList, Notification } from '../../src/spec/notify.js';
import { TestCdn } from '../support/cdn.js';
import { eventually } from '../support/http.js';
import { freePort } from '../support/processes.js';
import { HttpReceiver, SmtpReceiver, type ReceivedRequest } from '../support/receivers.js';

const SECRET = 'e2e-webhook-secret-0123456789abcdef';

describe('alerts reach a webhook and a mailbox once per trouble', { timeout: 300_000 }, () => {
  const cdn = new TestCdn({
    edges: { ed1: '127.0.0.81' },
    serveArgs: [
      '--nginx-check',
      'off',
      '--probe-interval',
      '2',
      '--probe-timeout',
      '1',
      '--alert-fire-after',
      '5',
      '--alert-resolve-after',
      '20',
      '--alert-interval',
      '3',
      '--alert-check-interval',
      '1',
    ],
  });
  const hook = new HttpReceiver();
  const smtp = new SmtpReceiver();

  const notifications = (reqs: ReceivedRequest[]) =>
    reqs.map((r) => ({ r, n: Notification.parse(JSON.parse(r.body)) }));
  const alertMessages = () => notifications(hook.requests).filter((x) => x.n.type === 'alerts');

  beforeAll(async () => {
    await hook.start();
    await smtp.start();
    await cdn.start();
    await cdn.apply(`
edges:
${cdn.edgeYaml('ed1')}sites: []
`);
    await cdn.startAgents();
    // Until its agent had started nginx, the new edge failed its probes (an edge_down that
    // fired before any channel existed): start from a quiet notifier.
    await eventually(
      'a healthy edge and no tracked alert',
      async () => {
        const up = (await cdn.status()).every((e) => e.health === 'up');
        const r = await cdn.cli(['alerts', 'list', '--json']);
        const quiet = (JSON.parse(r.stdout) as { alerts: unknown[] }).alerts.length === 0;
        return up && quiet ? true : undefined;
      },
      90_000,
      500,
    );
  }, 180_000);

  afterAll(async () => {
    await cdn.close();
    await hook.close();
    await smtp.close();
  });

  it('channels are added with the secret from a file, listed without it, and tested', async () => {
    const secretFile = join(cdn.tmp.path, 'hook-secret');
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const add = await cdn.cli([
      'alerts',
      'channel',
      'add',
      'ops',
      '--type',
      'webhook',
      '--url',
      `${hook.url}/outpost`,
      '--secret-file',
      secretFile,
      '--kind',
      'edge_down',
    ]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('Channel ops (webhook) added: edge_down, warning or worse.');
    const mail = await cdn.cli([
      'alerts',
      'channel',
      'add',
      'mail',
      '--type',
      'email',
      '--smtp-host',
      '127.0.0.1',
      '--smtp-port',
      String(smtp.port),
      '--smtp-tls',
      'none',
      '--from',
      'outpost@cdn.test',
      '--to',
      'oncall@cdn.test',
      '--kind',
      'edge_down',
      '--min-severity',
      'critical',
    ]);
    expect(mail.code, mail.stderr).toBe(0);

    // Bad input: the field at fault, nothing stored.
    const bad = await cdn.cli([
      'alerts',
      'channel',
      'add',
      'bad',
      '--type',
      'webhook',
      '--url',
      'ftp://127.0.0.1/x',
      '--secret-file',
      secretFile,
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('settings.url');

    const list = await cdn.cli(['alerts', 'channel', 'list', '--json']);
    const channels = ChannelList.parse(JSON.parse(list.stdout)).channels;
    expect(channels.map((c) => [c.name, c.settings.type, c.has_secret])).toEqual([
      ['mail', 'email', false],
      ['ops', 'webhook', true],
    ]);
    expect(list.stdout).not.toContain(SECRET);

    const t = await cdn.cli(['alerts', 'test', 'ops']);
    expect(t.stderr).toBe('');
    expect(t.stdout).toMatch(/^Test message \S+ delivered to channel ops\.$/m);
    const [test] = notifications(hook.requests);
    expect(test?.n).toMatchObject({ type: 'test', channel: 'ops', events: [] });
    expect(test?.r.path).toBe('/outpost');
    expect(
      verifySignature(
        SECRET,
        test?.r.headers['x-outpost-signature'] as string,
        test?.r.body ?? '',
        new Date(),
      ),
    ).toBe(true);

    expect((await cdn.cli(['alerts', 'test', 'mail'])).code).toBe(0);
    expect(smtp.messages.map((m) => m.subject)).toEqual([
      '[Outpost] Test message for channel mail',
    ]);
    expect(smtp.messages[0]?.to).toEqual(['oncall@cdn.test']);

    // A channel that cannot be reached (a free port: nothing listens), the test fails with the
    // reason, exit code not 0.
    const closed = await freePort();
    await cdn.cli([
      'alerts',
      'channel',
      'add',
      'dead',
      '--type',
      'webhook',
      '--url',
      `http://127.0.0.1:${closed}/x`,
      '--secret-file',
      secretFile,
    ]);
    const dead = await cdn.cli(['alerts', 'test', 'dead']);
    expect(dead.code).not.toBe(0);
    expect(dead.stderr).toMatch(
      /the test message did not reach channel dead: the request failed: ECONNREFUSED/,
    );
    expect((await cdn.cli(['alerts', 'channel', 'rm', 'dead'])).code).toBe(0);
  });

  it('an edge down for a minute sends one "firing" and one "resolved", signed', async () => {
    // A healthy edge says nothing.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(alertMessages()).toEqual([]);

    const stoppedAt = Date.now();
    await cdn.agents.ed1?.stop();
    cdn.stopProxy('ed1');
    await eventually(
      'the firing message',
      async () => (alertMessages().length >= 1 ? true : undefined),
      120_000,
      500,
    );
    const listed = await cdn.cli(['alerts']);
    expect(listed.stdout).toMatch(/edge_down:ed1\s+critical\s+firing/);
    // Down for about a minute in all.
    const rest = 60_000 - (Date.now() - stoppedAt);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    cdn.startAgent('ed1');
    await cdn.allApplied();
    await eventually(
      'the resolved message',
      async () => (alertMessages().length >= 2 ? true : undefined),
      120_000,
      500,
    );
    // Nothing more comes: one trouble, two messages.
    await new Promise((r) => setTimeout(r, 8_000));

    const messages = alertMessages();
    expect(messages.flatMap((m) => m.n.events.map((e) => `${e.status} ${e.alert_id}`))).toEqual([
      'firing edge_down:ed1',
      'resolved edge_down:ed1',
    ]);
    for (const { r } of messages) {
      expect(
        verifySignature(SECRET, r.headers['x-outpost-signature'] as string, r.body, r.at),
      ).toBe(true);
      // A body changed on the way fails the check.
      expect(
        verifySignature(
          SECRET,
          r.headers['x-outpost-signature'] as string,
          r.body.replace('ed1', 'ed2'),
          r.at,
        ),
      ).toBe(false);
    }
    const [firing, resolved] = messages.map((m) => m.n.events[0]);
    expect(firing).toMatchObject({ kind: 'edge_down', severity: 'critical', subject: 'ed1' });
    expect(resolved?.started_at).toBe(firing?.started_at);
    expect(Date.parse(resolved?.resolved_at ?? '')).toBeGreaterThan(
      Date.parse(firing?.started_at ?? ''),
    );

    await eventually(
      'two alert mails',
      async () => (smtp.messages.length >= 3 ? true : undefined),
      30_000,
      500,
    );
    expect(smtp.messages.slice(1).map((m) => m.subject)).toEqual([
      expect.stringMatching(/^\[Outpost\] FIRING critical edge_down:ed1: edge ed1 /),
      expect.stringMatching(/^\[Outpost\] RESOLVED edge_down:ed1 \(since \S+\): edge ed1 /),
    ]);
  });
});
