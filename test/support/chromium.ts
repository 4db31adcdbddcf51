// Headless Chromium (Debian's, driven by playwright-core) as the UI test and the screenshot
// script run it: a fresh persistent profile, no sandbox (they run as root), nothing fetched
// from off the machine.
import { mkdirSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';

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
