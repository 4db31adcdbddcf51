// The edge page's Networks section (issue 22) in headless Chromium against a real control
// plane: an invalid ASN shows, beside the ASN field, the API's message for its path, and
// nothing is saved; then the china-unicom preset and AS 4134 are saved through the API, and
// after a reload the page shows them again; the site editor saves a site's own networks entry
// for the edge, and refuses a bad ASN there beside its field.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETWORK_LINES } from '../../src/spec/network-lines.js';
import { firstPage, launchChromium, loginInChromium } from '../support/chromium.js';
import { freePort, ROOT, startOutpost, tempDir, type Running } from '../support/processes.js';

const EDGE = 'net-ui';

describe('the edge page edits the networks the edge serves best', () => {
  const tmp = tempDir('ui-networks');
  let cp: Running;
  let cpUrl = '';
  let adminToken = '';
  let context: BrowserContext;
  let page: Page;
  const byTestId = (id: string) => page.getByTestId(id);
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${cpUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const savedEdge = async () =>
    ((await (await admin('GET', `/v1/edges/${EDGE}`)).json()) as { edge: Record<string, unknown> })
      .edge;

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
      '--probe-interval',
      '0',
    ]);
    adminToken = (await cp.waitFor(/OUTPOST_TOKEN=(opa_\S+)/))[1] as string;
    await cp.waitFor(/Admin API:/);
    const added = await admin('POST', '/v1/edges', {
      name: EDGE,
      host: { v4: '192.0.2.30' },
      tags: ['cn'],
      meta: { countries: ['CN'] },
    });
    expect(added.status).toBe(201);
    context = await launchChromium(join(tmp.path, 'chromium-profile'), {
      viewport: { width: 1280, height: 900 },
    });
    page = await firstPage(context, 15_000);
    await loginInChromium(page, cpUrl, adminToken);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await cp?.stop();
    tmp.remove();
  });

  it('shows an invalid ASN beside the field and saves nothing', async () => {
    await page.goto(`${cpUrl}/edges/${EDGE}`);
    await byTestId('edge-networks').waitFor();
    // Each preset with its name and its ASN count.
    const unicom = NETWORK_LINES['china-unicom']?.asns.length ?? 0;
    expect(unicom).toBeGreaterThan(1);
    const label = page.locator('label', { has: byTestId('networks.lines-china-unicom') });
    expect(await label.innerText()).toMatch(
      new RegExp(`China Unicom \\(China169, 9929\\)\\s+china-unicom\\s+${unicom} ASNs`),
    );
    await byTestId('networks.lines-china-unicom').check();
    await byTestId('field-networks.asns').fill('4134, 12x');
    await byTestId('save-networks').click();
    const problem = byTestId('problem-networks.asns');
    await problem.waitFor();
    // The API's own message for the same value (the CLI prints it too).
    const refused = await admin('PUT', `/v1/edges/${EDGE}`, {
      host: { v4: '192.0.2.30' },
      networks: { asns: [4134, '12x'], lines: ['china-unicom'] },
    });
    expect(refused.status).toBe(400);
    const { error } = (await refused.json()) as {
      error: { problems: { path: string; message: string; code?: string }[] };
    };
    const message = error.problems.find((p) => p.path === 'networks.asns[1]')?.message ?? '';
    expect(message).toMatch(/number/);
    expect(await problem.innerText()).toMatch(/^networks\.asns\[1\]\s+/);
    expect(await problem.innerText()).toContain(message);
    expect(await byTestId('networks-saved').count()).toBe(0);
    expect(await savedEdge()).not.toHaveProperty('networks');

    // Out of range: the schema's bound, beside the same field.
    await byTestId('field-networks.asns').fill('4294967295');
    await byTestId('save-networks').click();
    await problem.filter({ hasText: '4294967294' }).waitFor();
    expect(await savedEdge()).not.toHaveProperty('networks');
  }, 60_000);

  it('saves china-unicom and AS 4134 with the rest of the edge, and shows them after a reload', async () => {
    await byTestId('field-networks.asns').fill('AS4134');
    await byTestId('save-networks').click();
    await byTestId('networks-saved').waitFor();
    expect(await byTestId('problem-networks.asns').count()).toBe(0);
    const edge = await savedEdge();
    expect(edge.networks).toEqual({ asns: [4134], lines: ['china-unicom'] });
    // The rest of the edge is as it was.
    expect(edge).toMatchObject({ host: { v4: '192.0.2.30' }, tags: ['cn'] });
    expect(edge.meta).toEqual({ countries: ['CN'] });

    await page.reload();
    await byTestId('edge-networks').waitFor();
    expect(await byTestId('field-networks.asns').inputValue()).toBe('4134');
    expect(await byTestId('networks.lines-china-unicom').isChecked()).toBe(true);
    expect(await byTestId('networks.lines-china-telecom').isChecked()).toBe(false);

    // Unchecked and emptied: the edge names no networks any more.
    await byTestId('networks.lines-china-unicom').uncheck();
    await byTestId('field-networks.asns').fill('');
    await byTestId('save-networks').click();
    await byTestId('networks-saved').waitFor();
    expect(await savedEdge()).not.toHaveProperty('networks');
  }, 60_000);

  it('the site editor saves the site’s own networks for the edge, a bad ASN named beside it', async () => {
    await page.goto(`${cpUrl}/sites/new`);
    await byTestId('field-domain').fill('net-ui.test');
    await byTestId('field-origins[0].host.v4').fill('127.0.0.1');
    await byTestId('add-site-networks').click();
    await byTestId('field-networks[0].edges').fill(EDGE);
    await byTestId('networks[0].lines-china-mobile').check();
    await byTestId('field-networks[0].asns').fill('4134, x9');
    await byTestId('review-site').click();
    await byTestId('problem-networks[0].asns').filter({ hasText: 'networks[0].asns[1]' }).waitFor();
    expect(await byTestId('save-site').count()).toBe(0);
    expect((await admin('GET', '/v1/sites/net-ui.test')).status).toBe(404);

    await byTestId('field-networks[0].asns').fill('4134');
    await byTestId('review-site').click();
    await byTestId('diff-preview').waitFor();
    await byTestId('save-site').click();
    await byTestId('site-row-net-ui.test').waitFor();
    const site = (
      (await (await admin('GET', '/v1/sites/net-ui.test')).json()) as {
        site: { networks?: unknown };
      }
    ).site;
    expect(site.networks).toEqual([{ edges: [EDGE], asns: [4134], lines: ['china-mobile'] }]);
  }, 60_000);

  it('the Add edge form takes the networks too', async () => {
    await page.goto(`${cpUrl}/edges`);
    await byTestId('add-edge').click();
    await byTestId('edge-name').fill('net-ui2');
    await byTestId('edge-v4').fill('192.0.2.31');
    await byTestId('networks.lines-china-education').check();
    await byTestId('field-networks.asns').fill('0');
    await byTestId('create-edge').click();
    await byTestId('problem-networks.asns').filter({ hasText: 'networks.asns[0]' }).waitFor();
    expect((await admin('GET', '/v1/edges/net-ui2')).status).toBe(404);
    await byTestId('field-networks.asns').fill('4538');
    await byTestId('create-edge').click();
    await byTestId('token-once').waitFor();
    const edge = (
      (await (await admin('GET', '/v1/edges/net-ui2')).json()) as { edge: { networks?: unknown } }
    ).edge;
    expect(edge.networks).toEqual({ asns: [4538], lines: ['china-education'] });
  }, 60_000);
});
