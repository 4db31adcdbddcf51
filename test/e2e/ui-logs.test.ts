// The site's access-log view in headless Chromium (issue 18), against a real control plane and
// a real nginx edge with traffic of several statuses: filtered by status, it shows only those
// lines (filtered on the edge), and a path filter narrows them further. Strict CSP throughout.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCdn } from '../support/cdn.js';
import { launchChromium, loginInChromium } from '../support/chromium.js';
import { eventually } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { ROOT } from '../support/processes.js';

const SITE = 'ui-logs.test';

describe('the access-log view filters by status', { timeout: 300_000 }, () => {
  const cdn = new TestCdn({ edges: { ul: '127.0.0.193' }, serveArgs: ['--nginx-check', 'off'] });
  let origin: TestOrigin;
  let context: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, 'scripts', 'build-web-if-stale.sh')], { stdio: 'pipe' });
    origin = await startOrigin({
      routes: {
        '/missing': (_req, res) => {
          res.statusCode = 404;
          res.setHeader('cache-control', 'no-store');
          res.end('missing');
        },
      },
    });
    await cdn.start();
    await cdn.apply(`
edges:
${cdn.edgeYaml('ul')}sites:
  - domain: ${SITE}
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
    tls: {acme: false}
`);
    cdn.startAgent('ul');
    await eventually(
      'the edge to apply its release',
      async () => ((await cdn.status())[0]?.applied_release ? true : undefined),
      150_000,
      500,
    );
    for (let i = 0; i < 4; i++) {
      expect((await cdn.get('ul', `/missing?n=${i}`, SITE)).status).toBe(404);
      expect((await cdn.get('ul', `/page/${i}`, SITE)).status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 1_500)); // nginx flushes its log every second
    context = await launchChromium(join(cdn.tmp.path, 'chromium-profile'), {
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
    await loginInChromium(page, cdn.cpUrl, cdn.adminEnv.OUTPOST_TOKEN ?? '');
  }, 280_000);

  afterAll(async () => {
    await context?.close();
    await cdn.close();
    await origin?.close();
  });

  const statuses = async () => page.getByTestId('logs-row-status').allTextContents();
  const uris = async () => page.getByTestId('logs-row-uri').allTextContents();

  it('from the site page: all lines, then only the 404s, then a path among them', async () => {
    await page.goto(`${cdn.cpUrl}/sites/${SITE}`);
    await page.getByTestId('site-logs-link').click();
    await page.getByTestId('site-logs').waitFor();
    await page.getByTestId('logs-show').click();
    await page.getByTestId('logs-table').waitFor();
    expect((await statuses()).sort()).toEqual([
      ...Array<string>(4).fill('200'),
      ...Array<string>(4).fill('404'),
    ]);
    expect(await page.getByTestId('logs-edge-ul').textContent()).toBe('ul: 8 lines');

    await page.getByTestId('logs-status').fill('404');
    await page.getByTestId('logs-show').click();
    await eventually('only the 404s', async () =>
      (await statuses()).length === 4 ? true : undefined,
    );
    expect(await statuses()).toEqual(['404', '404', '404', '404']);
    expect((await uris()).sort()).toEqual([0, 1, 2, 3].map((i) => `/missing?n=${i}`));

    await page.getByTestId('logs-path').fill('/missing?n=2');
    await page.getByTestId('logs-show').click();
    await eventually('one line', async () => ((await uris()).length === 1 ? true : undefined));
    expect(await uris()).toEqual(['/missing?n=2']);

    await page.getByTestId('logs-status').fill('5xx');
    await page.getByTestId('logs-path').fill('');
    await page.getByTestId('logs-show').click();
    await page.getByTestId('logs-empty').waitFor();

    await page.getByTestId('logs-status').fill('4x4');
    await page.getByTestId('logs-show').click();
    expect(await page.getByTestId('error').textContent()).toMatch(/^status: must be a status/);
    expect(cspViolations).toEqual([]);
  });
});
