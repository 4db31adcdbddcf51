// The access pages of the admin UI in headless Chromium against a real control plane (issue 15):
// create an API token in the UI (its value shown once), see it listed, use it from the API,
// revoke it in the UI and see the API refuse it; add a user in the UI and log in as that user;
// see both in the audit page, filtered by actor. The whole walk runs under the strict CSP and
// fails on any violation Chromium reports.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, loginInChromium } from '../support/chromium.js';
import {
  readAdminEnv,
  ROOT,
  startControlPlane,
  tempDir,
  type ControlPlane,
} from '../support/processes.js';

describe('tokens, users and the audit log in the UI', () => {
  const tmp = tempDir('ui-access');
  let cp: ControlPlane;
  let adminToken = '';
  let apiToken = '';
  let context: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];

  const byTestId = (id: string) => page.getByTestId(id);
  const statusWith = async (token: string) =>
    (await fetch(`${cp.url}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).status;

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, 'scripts', 'build-web-if-stale.sh')], { stdio: 'pipe' });
    cp = await startControlPlane(join(tmp.path, 'cp'), { startTimeoutMs: 60_000 });
    adminToken = (await readAdminEnv(cp)).OUTPOST_TOKEN;
    context = await launchChromium(join(tmp.path, 'chromium-profile'), {
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
    await loginInChromium(page, cp.url, adminToken);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await cp?.server.stop();
    tmp.remove();
  });

  it('creates a token (shown once), lists it, and the API takes it', async () => {
    await byTestId('nav-tokens').click();
    await byTestId('tokens').waitFor();
    await byTestId('token-name').fill('ci-read');
    await byTestId('token-scope-read').check();
    await byTestId('create-token').click();
    apiToken = await byTestId('api-token-value').inputValue();
    expect(apiToken).toMatch(/^opt_/);
    await byTestId('tokens-row-ci-read').waitFor();
    expect(await byTestId('tokens-scopes-ci-read').textContent()).toBe('read');
    expect(await byTestId('tokens-expires-ci-read').textContent()).toBe('never');
    expect(await byTestId('tokens-used-ci-read').textContent()).toBe('never');
    // Shown once: dismissed, it is nowhere on the page, and the list never has it.
    await byTestId('api-token-done').click();
    expect(await page.content()).not.toContain(apiToken);

    expect(await statusWith(apiToken)).toBe(200);
    await page.reload();
    await byTestId('tokens-row-ci-read').waitFor();
    expect(await byTestId('tokens-used-ci-read').textContent()).not.toBe('never');
    expect(await page.content()).not.toContain(apiToken);
  });

  it('a bad name is refused with the field named, and nothing is created', async () => {
    await byTestId('token-name').fill('Bad Name');
    await byTestId('token-scope-read').check();
    await byTestId('create-token').click();
    expect(await byTestId('create-token-form').getByTestId('error').textContent()).toMatch(
      /^name: must be 1-63 of a-z/,
    );
    expect(await page.getByTestId(/^tokens-row-/).count()).toBe(1);
  });

  it('revokes the token in the UI, and the API refuses it', async () => {
    await byTestId('revoke-ci-read').click();
    await byTestId('confirm-revoke-ci-read').click();
    await byTestId('tokens-row-ci-read').waitFor({ state: 'detached' });
    expect(await statusWith(apiToken)).toBe(401);
  });

  it('adds a user, who logs in with the password', async () => {
    await byTestId('nav-users').click();
    await byTestId('users').waitFor();
    await byTestId('user-name').fill('ops');
    await byTestId('user-password').fill('correct horse battery');
    await byTestId('user-scope-read').check();
    await byTestId('add-user').click();
    await byTestId('users-row-ops').waitFor();
    expect(await byTestId('users-row-ops').textContent()).toContain('read');

    await byTestId('logout').click();
    await byTestId('login-user').fill('ops');
    await byTestId('login-password').fill('correct horse battery');
    await byTestId('login-submit').click();
    // Back on the page the admin left (users), now as ops: the dashboard is a click away.
    await byTestId('nav-dashboard').click();
    await byTestId('dashboard').waitFor();
    const session = await page.evaluate<string | null>(
      "sessionStorage.getItem('outpost.admin-token')",
    );
    expect(session).toMatch(/^ops_/);
    const who = await fetch(`${cp.url}/v1/whoami`, {
      headers: { authorization: `Bearer ${session ?? ''}` },
    });
    expect(await who.json()).toMatchObject({ kind: 'user', name: 'ops', scopes: ['read'] });
  });

  it('the audit page shows who did it, from where, and filters by actor', async () => {
    // ops has the read scope, which is enough for the audit log.
    await byTestId('nav-audit').click();
    await byTestId('audit-table').waitFor();
    const rows = async () => {
      const out: (string | null)[][] = [];
      for (const tr of await page.getByTestId('audit-row').all())
        out.push([
          await tr.getAttribute('data-actor'),
          await tr.getAttribute('data-action'),
          await tr.locator('td').nth(3).textContent(),
          await tr.locator('td').nth(4).textContent(),
        ]);
      return out;
    };
    const all = await rows();
    expect(all).toContainEqual(['admin token', 'token.create', 'ci-read', '127.0.0.1']);
    expect(all).toContainEqual(['admin token', 'token.revoke', 'ci-read', '127.0.0.1']);
    expect(all).toContainEqual(['admin token', 'user.create', 'ops', '127.0.0.1']);
    expect(all).toContainEqual(['user:ops', 'login', 'ops', '127.0.0.1']);

    await byTestId('audit-actor').selectOption('user:ops');
    const mine = await rows();
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every(([actor]) => actor === 'user:ops')).toBe(true);
    expect(mine).toContainEqual(['user:ops', 'login', 'ops', '127.0.0.1']);
  });

  it('ran under the strict CSP without a violation', () => {
    expect(cspViolations).toEqual([]);
  });
});
