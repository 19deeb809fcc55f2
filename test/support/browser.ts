/**
 * A real headless Chromium for browser tests: Debian's `chromium` package (installed through the stack's
 * apt helper when missing, so a fresh machine needs nothing by hand), driven by playwright-core. No
 * browser build is ever downloaded by Playwright: it is pointed at the system binary.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { aptEnsure } from '../../scripts/stack/apt.ts';
import { REPO_ROOT } from '../../services/lib/config.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** Where browser tests keep their screenshots (git-ignored). */
export const BROWSER_ARTIFACTS = join(REPO_ROOT, '.artifacts', 'browser');

/** Chromium and a font it can render pages with; a no-op once both are installed. */
export async function ensureChromium(): Promise<void> {
  await aptEnsure(['chromium', 'fonts-liberation'], (msg) => console.log(`[browser] ${msg}`));
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} still missing after installing chromium`);
}

export async function launchChromium(): Promise<Browser> {
  await ensureChromium();
  mkdirSync(BROWSER_ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Nothing in the background may reach the network: the test talks to 127.0.0.1 only.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
