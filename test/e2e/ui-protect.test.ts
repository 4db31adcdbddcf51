// The site editor's protection sections (issue 16) in headless Chromium against a real control
// plane: an invalid client network in an access rule shows, beside its field, the message
// `outpost apply` gives for the same document, and nothing is saved; an unknown @list is named
// too; with the list added in the IP lists section, the site is saved with the rate limit and
// the access rule set in the UI, and the list with the state.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstPage, launchChromium, loginInChromium } from '../support/chromium.js';
import {
  freePort,
  ROOT,
  runCli,
  startOutpost,
  tempDir,
  type Running,
} from '../support/processes.js';

const SITE = 'protect-ui.test';

describe('the site editor sets access rules and rate limits, with the CLI’s messages', () => {
  const tmp = tempDir('ui-protect');
  let cp: Running;
  let cpUrl = '';
  let adminToken = '';
  let context: BrowserContext;
  let page: Page;
  const byTestId = (id: string) => page.getByTestId(id);
  const textOf = async (id: string) => ((await byTestId(id).textContent()) ?? '').trim();
  const getSite = async () => {
    const r = await fetch(`${cpUrl}/v1/sites/${SITE}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    return { status: r.status, body: (await r.json()) as { site?: Record<string, unknown> } };
  };

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, 'scripts', 'build-web-if-stale.sh')], { stdio: 'pipe' });
    const cpPort = await freePort();
    cpUrl = `http://127.0.0.1:${cpPort}`;
    cp = startOutpost([
      'serve',
      '--data-dir',
      join(tmp.path, 'cp'),
      '--listen',
      `127.0.0.1:${cpPort}`,
      '--log-level',
      'warn',
      '--nginx-check',
      'off',
    ]);
    adminToken = (await cp.waitFor(/OUTPOST_TOKEN=(opa_\S+)/))[1] as string;
    await cp.waitFor(/Admin API:/);
    context = await launchChromium(join(tmp.path, 'chromium-profile'), {
      viewport: { width: 1280, height: 900 },
    });
    page = await firstPage(context, 15_000);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await cp?.stop();
    tmp.remove();
  });

  it('shows the CIDR message beside the field, then saves the rate limit and the rule', async () => {
    await loginInChromium(page, cpUrl, adminToken);
    await byTestId('nav-sites').click();
    await byTestId('new-site').click();
    await byTestId('field-domain').fill(SITE);
    await byTestId('field-origins[0].host.v4').fill('127.0.0.1');
    await byTestId('origins[0].protocol').selectOption('http');

    await byTestId('add-rate-limit').click();
    await byTestId('field-rate_limits[0].name').fill('api');
    await byTestId('field-rate_limits[0].rate').fill('10r/s');
    await byTestId('field-rate_limits[0].burst').fill('5');
    await byTestId('field-rate_limits[0].match.paths').fill('/api/*');
    await byTestId('access-enabled').check();
    await byTestId('add-access-rule').click();
    await byTestId('field-access.rules[0].match.client_ips').fill('10.0.0.0/33');
    await byTestId('review-site').click();

    const shown = await textOf('problem-access.rules[0].match.client_ips');
    const file = join(tmp.path, 'bad.yaml');
    writeFileSync(
      file,
      `sites:
  - domain: ${SITE}
    origins: [{host: {v4: 127.0.0.1}, protocol: http}]
    access: {rules: [{match: {client_ips: [10.0.0.0/33]}, action: deny}]}
`,
    );
    const cli = await runCli(['apply', '-f', file, '--dry-run'], {
      OUTPOST_SERVER: cpUrl,
      OUTPOST_TOKEN: adminToken,
    });
    expect(cli.code).not.toBe(0);
    const cliMessage = /sites\[0\]\.access\.rules\[0\]\.match\.client_ips\[0\]: (.+)/.exec(
      cli.stderr,
    )?.[1];
    expect(cliMessage).toContain('10.0.0.0/33');
    expect(shown).toContain(cliMessage);
    expect(await byTestId('save-site').count()).toBe(0);
    expect((await getSite()).status).toBe(404);

    await byTestId('field-access.rules[0].match.client_ips').fill('10.0.0.0/8, @office');
    await byTestId('review-site').click();
    // "@office" names no list of the state: refused with its own message, beside the field.
    await byTestId('problem-access.rules[0].match.client_ips')
      .filter({ hasText: 'names the IP list "office", which ip_lists does not define' })
      .waitFor();
    // Defined in the IP lists section, it is saved with the whole state.
    await byTestId('add-ip-list').click();
    await byTestId('field-ip_lists[0].name').fill('office');
    await byTestId('field-ip_lists[0].networks').fill('192.0.2.0/24');
    await byTestId('review-site').click();
    await byTestId('diff-preview').waitFor();
    await byTestId('save-site').click();
    await byTestId(`site-row-${SITE}`).waitFor();

    const saved = await getSite();
    expect(saved.status).toBe(200);
    expect(saved.body.site?.rate_limits).toEqual([
      {
        name: 'api',
        match: { paths: ['/api/*'] },
        key: 'ip',
        rate: '10r/s',
        burst: 5,
        delay: 'nodelay',
        status: 429,
      },
    ]);
    expect(saved.body.site?.access).toEqual({
      default: 'allow',
      status: 403,
      rules: [{ match: { client_ips: ['10.0.0.0/8', '@office'] }, action: 'deny' }],
    });
    const state = (await (
      await fetch(`${cpUrl}/v1/state`, { headers: { authorization: `Bearer ${adminToken}` } })
    ).json()) as { spec: { ip_lists?: Record<string, string[]> } };
    expect(state.spec.ip_lists).toEqual({ office: ['192.0.2.0/24'] });
  }, 120_000);
});
