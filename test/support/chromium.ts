// Headless Chromium (Debian's, driven by playwright-core) as the UI test and the screenshot
// script run it: a fresh persistent profile, no sandbox (they run as root), nothing fetched
// from off the machine.
import { mkdirSync } from 'node:fs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches Chromium with its profile in `profileDir` (created; must not exist yet). */
export function launchChromium(
  profileDir: string,
  options: {
    viewport: { width: number; height: number };
    deviceScaleFactor?: number;
    /** The browser's language (navigator.languages, Accept-Language), e.g. `zh-CN`. */
    locale?: string;
  },
): Promise<BrowserContext> {
  mkdirSync(profileDir);
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
}

/** The context's first tab (a persistent context opens with one), waiting `timeoutMs` by default. */
export async function firstPage(context: BrowserContext, timeoutMs: number): Promise<Page> {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(timeoutMs);
  return page;
}

/**
 * Logs the admin UI in with `token`: opens the control plane's `baseUrl` (unless
 * `navigate: false`, for a login form already shown, e.g. after a refused token), types the
 * token into the login form, submits it and waits for the dashboard, the first page.
 */
export async function loginInChromium(
  page: Page,
  baseUrl: string,
  token: string,
  options: { navigate?: boolean } = {},
): Promise<void> {
  if (options.navigate ?? true) await page.goto(`${baseUrl}/`);
  await page.getByTestId('login-token').fill(token);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('dashboard').waitFor();
}
