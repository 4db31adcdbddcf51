// The admin UI in Chinese (issue 22), in headless Chromium whose language is zh-CN, against a
// real control plane: the login page, a site edit whose validation error is shown in Chinese
// with the field's path, the dashboard and the public status page are in Chinese with no
// English catalogue text left; a hostname check of the spec is shown in Chinese beside the
// domain field (issue 22: every schema sentence has a code); the header's switch turns the UI
// English, and it stays English after a reload.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../src/web/app/i18n/en.js';
import { zhCN } from '../../src/web/app/i18n/zh-CN.js';
import { launchChromium } from '../support/chromium.js';
import { freePort, ROOT, startOutpost, tempDir, type Running } from '../support/processes.js';

type Tree = { readonly [k: string]: string | Tree };
const flatten = (tree: Tree, prefix = ''): [string, string][] =>
  Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'string' ? [[`${prefix}${k}`, v]] : flatten(v, `${prefix}${k}.`),
  );

/**
 * English texts of the catalogue that would give an untranslated page away: those of two
 * words or more, cut at their first value or tag, that differ from the Chinese ones.
 */
const zhTexts = new Map(flatten(zhCN));
const ENGLISH = [
  ...new Set(
    flatten(en)
      .filter(([k, v]) => zhTexts.get(k) !== v && !k.startsWith('problems.words.'))
      .map(([, v]) => v.split(/\{\{|</)[0]?.trim() ?? '')
      .filter((v) => /^[A-Za-z]+\s+[A-Za-z]+/.test(v) && v.length >= 8),
  ),
];

describe('the admin UI in Chinese, in a zh-CN Chromium', () => {
  const tmp = tempDir('ui-zh');
  let cp: Running;
  let cpUrl = '';
  let adminToken = '';
  let context: BrowserContext;
  let page: Page;

  const byTestId = (id: string) => page.getByTestId(id);
  const textOf = async (id: string) => ((await byTestId(id).textContent()) ?? '').trim();
  const bodyText = () => page.locator('body').innerText();
  const englishShown = async () => {
    const text = await bodyText();
    return ENGLISH.filter((e) => text.includes(e));
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
    // A loaded machine starts tsx slowly: up to 60 s (a bound, not a wait).
    adminToken = (await cp.waitFor(/OUTPOST_TOKEN=(opa_\S+)/, 60_000))[1] as string;
    await cp.waitFor(/Admin API:/);
    context = await launchChromium(join(tmp.path, 'chromium-profile'), {
      viewport: { width: 1280, height: 900 },
      locale: 'zh-CN',
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await cp?.stop();
    tmp.remove();
  });

  it('has a catalogue of English texts to look for', () => {
    expect(ENGLISH).toContain('The control plane refused this token.');
    expect(ENGLISH).toContain('Review changes');
    expect(ENGLISH.length).toBeGreaterThan(100);
  });

  it('logs in in Chinese, the browser’s language, and refuses a wrong token in Chinese', async () => {
    await page.goto(`${cpUrl}/`);
    await byTestId('login-form').waitFor();
    expect(await page.evaluate<string[]>('navigator.languages')).toContain('zh-CN');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect(await textOf('login-submit')).toBe('登录');
    expect(await bodyText()).toContain('用用户名和密码登录');
    expect(await englishShown()).toEqual([]);
    await byTestId('login-token').fill('opa_not-the-token');
    await byTestId('login-submit').click();
    expect(await textOf('login-error')).toBe('控制面拒绝了这个令牌。');
    await byTestId('login-token').fill(adminToken);
    await byTestId('login-submit').click();
    await byTestId('dashboard').waitFor();
  });

  it('shows the dashboard in Chinese', async () => {
    expect(await page.locator('h1').textContent()).toBe('仪表盘');
    expect(await textOf('nav-sites')).toBe('站点');
    expect(await textOf('nav-edges')).toBe('节点');
    expect(await textOf('alerts-none')).toBe('没有告警。');
    await byTestId('fleet-charts').waitFor();
    expect(await englishShown()).toEqual([]);
  });

  it('edits a site: the API’s problem in Chinese beside its field, with the field’s path', async () => {
    await byTestId('nav-sites').click();
    await byTestId('new-site').click();
    await byTestId('field-domain').fill('zh.test');
    await byTestId('field-origins[0].host.v4').fill('127.0.0.1');
    await byTestId('origins[0].protocol').selectOption('http');
    await byTestId('field-origins[0].port').fill('70000');
    expect(await byTestId('review-site').textContent()).toBe('检查变更');
    await byTestId('review-site').click();
    await byTestId('problems').waitFor();
    expect(await textOf('problem-origins[0].port')).toBe('当前为 70000；不能大于 65535');
    const list = await textOf('problems');
    expect(list).toContain('1 个问题，未保存任何内容：');
    expect(list).toContain('origins[0].port: 当前为 70000；不能大于 65535');
    expect(list).not.toContain('must be at most');
    expect(await byTestId('save-site').count()).toBe(0);
    expect(await englishShown()).toEqual([]);
  });

  // Issue 22 (w5-codes): a schema's own sentence (the hostname check) has a code too, and is
  // shown in Chinese beside its field, not in the API's English.
  it('shows a hostname check of the spec in Chinese beside the domain field', async () => {
    await byTestId('field-domain').fill('Zh.test');
    await byTestId('review-site').click();
    await byTestId('problem-domain').waitFor();
    expect(await textOf('problem-domain')).toBe('"Zh.test" 必须是小写');
    const list = await textOf('problems');
    expect(list).toContain('2 个问题，未保存任何内容：');
    expect(list).toContain('domain: "Zh.test" 必须是小写');
    expect(list).toContain('origins[0].port: 当前为 70000；不能大于 65535');
    expect(list).not.toContain('must be lowercase');
    expect(await englishShown()).toEqual([]);
  });

  it('shows the public status page in Chinese', async () => {
    const visitor = await context.newPage();
    await visitor.goto(`${cpUrl}/status`);
    await visitor.getByTestId('overall').waitFor();
    // The title is the operator's status setting (the API's default is "Status"), shown as set.
    expect(await visitor.getByTestId('public-title').textContent()).toBe('Status');
    expect(await visitor.getByTestId('overall').textContent()).toMatch(/\p{Script=Han}/u);
    expect(await visitor.getAttribute('html', 'lang')).toBe('zh-CN');
    const text = await visitor.locator('body').innerText();
    expect(text).toContain('最近 90 天的故障');
    expect(ENGLISH.filter((e) => text.includes(e))).toEqual([]);
    await visitor.close();
  });

  it('switches to English with the header’s switch, and stays English after a reload', async () => {
    await byTestId('language-switch').selectOption('en');
    await page.waitForFunction("document.documentElement.lang === 'en'");
    // The problem shown is now the API's own words, exactly what the CLI prints.
    expect(await textOf('problem-origins[0].port')).toBe('is 70000; must be at most 65535');
    expect(await textOf('problem-domain')).toBe('"Zh.test" must be lowercase');
    expect(await byTestId('review-site').textContent()).toBe('Review changes');
    expect(await textOf('nav-dashboard')).toBe('Dashboard');
    // No Chinese left in the page (the switch names 简体中文 in itself, outside <main>).
    expect(await page.locator('main').innerText()).not.toMatch(/\p{Script=Han}/u);
    expect(await page.evaluate<string | null>("localStorage.getItem('outpost.language')")).toBe(
      'en',
    );
    await page.reload();
    await byTestId('nav-dashboard').waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await byTestId('nav-dashboard').click();
    expect(await page.locator('h1').textContent()).toBe('Dashboard');
    expect(await textOf('alerts-none')).toBe('No alerts.');
  });
});
