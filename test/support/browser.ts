import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

// A real Chromium (Debian's package; .ci/run installs it) driven by playwright-core. Headless,
// no sandbox (we run as root), and none of Chromium's own traffic to the internet: tests only
// ever talk to the server on 127.0.0.1.

export const CHROMIUM = process.env.HOSTRUN_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

/**
 * Why browser tests cannot run here, or null when they can. CI sets HOSTRUN_REQUIRE_BROWSER=1
 * so that a missing Chromium fails there instead of being reported and passed over.
 */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set HOSTRUN_CHROMIUM): the browser tests cannot run here`;
  if (process.env.HOSTRUN_REQUIRE_BROWSER === '1') throw new Error(why);
  console.warn(`[hostrun tests] ${why}`);
  return why;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-sync',
      '--disable-domain-reliability',
      '--disable-client-side-phishing-detection',
      '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication',
      '--no-first-run',
      '--no-pings',
      '--metrics-recording-only',
      '--disable-dev-shm-usage',
    ],
  });
}

/** A fresh browser profile at a desktop (1280) or phone (390) width; requests off 127.0.0.1 are refused. */
export async function newContext(browser: Browser, opts: { phone?: boolean; dark?: boolean } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: opts.phone ? { width: 390, height: 844 } : { width: 1280, height: 860 },
    colorScheme: opts.dark ? 'dark' : 'light',
    ...(opts.phone ? { isMobile: true, hasTouch: true } : {}),
  });
  await context.route(/^(?!https?:\/\/127\.0\.0\.1[:/]).*/, (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort('blockedbyclient')));
  return context;
}

/** Saves a full-page screenshot under test-output/screenshots (not committed) to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
