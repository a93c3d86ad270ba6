import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../cli/harness.ts';
import { screenshot } from '../support/browser.ts';
import { ADMIN, BROWSER_UNAVAILABLE, startUiWorld, type UiWorld } from './world.ts';

// The frame of the UI in a real Chromium: first-user setup through the printed link, sign
// in and out, the project switcher, dark mode, the phone layout, and the banner when the API
// goes away.

describe.skipIf(BROWSER_UNAVAILABLE)('web UI shell', () => {
  let w: UiWorld;

  beforeAll(async () => {
    w = await startUiWorld({ firstUser: false });
  });

  afterAll(async () => {
    await w?.stop();
  });

  /** The first test creates the first user in the browser; run alone, a later test does it here. */
  async function firstUser(): Promise<void> {
    await w.api('POST', '/setup', { setup_token: w.setupToken, email: ADMIN.email, password: ADMIN.password });
  }

  it('creates the first user from the setup link, then signs out and in again', async () => {
    const context = await w.browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${w.url}/setup?token=${w.setupToken}`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create user and sign in' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).waitFor();
    expect(page.url()).toBe(`${w.url}/`);
    await screenshot(page, 'setup-done');

    // The setup link works once.
    const again = await w.api('POST', '/setup', { setup_token: w.setupToken, email: 'x@example.com', password: 'another long password' });
    expect(again.status).toBe(401);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('wrong password!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('wrong email or password');
    await context.close();
  });

  it('the project switcher shows the other project everywhere', async () => {
    await firstUser();
    expect((await w.api('POST', '/projects', { slug: 'beta', name: 'Beta' })).status).toBe(201);
    const yaml = (name: string) => `name: ${name}\nsteps:\n  - run: echo ${name}\n`;
    expect((await w.api('POST', '/jobs', { source: yaml('alpha-job') })).status).toBeLessThan(300);
    expect((await w.api('POST', '/jobs', { source: yaml('beta-job') }, { project: 'beta' })).status).toBeLessThan(300);

    const { context, page } = await w.signedIn();
    await page.getByRole('navigation').getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('link', { name: 'alpha-job' }).waitFor();
    await page.getByLabel('Project').selectOption('beta');
    await page.getByRole('link', { name: 'beta-job' }).waitFor();
    expect(await page.getByRole('link', { name: 'alpha-job' }).count()).toBe(0);
    // Remembered: a reload stays in beta.
    await page.reload();
    await page.getByRole('link', { name: 'beta-job' }).waitFor();
    expect(await page.getByLabel('Project').inputValue()).toBe('beta');
    await page.getByLabel('Project').selectOption('default');
    await context.close();
  });

  it('dark mode from the toggle; skip link and navigation by keyboard', async () => {
    await firstUser();
    const { context, page } = await w.signedIn();
    const isDark = () => page.evaluate(() => document.documentElement.classList.contains('dark'));
    expect(await isDark()).toBe(false);
    // system -> light -> dark
    await page.getByRole('button', { name: /^Theme: system/ }).click();
    await page.getByRole('button', { name: /^Theme: light/ }).click();
    expect(await isDark()).toBe(true);
    await page.reload();
    await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).waitFor();
    expect(await isDark()).toBe(true);

    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.textContent);
    expect(focused).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(page.url()).toBe(`${w.url}/#main`);
    await context.close();
  });

  it('on a phone the navigation is a menu', async () => {
    await firstUser();
    const { context, page } = await w.signedIn({ phone: true });
    const nav = page.getByRole('navigation');
    await expect.poll(() => nav.isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Open menu' }).click();
    await nav.getByRole('link', { name: 'Runs' }).click();
    await page.waitForURL(`${w.url}/runs`);
    await expect.poll(() => nav.isVisible()).toBe(false); // closes after navigating
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    await screenshot(page, 'runs-phone');
    await context.close();
  });

  it('a banner says when the API stops answering, and goes when it is back', async () => {
    await firstUser();
    const { context, page } = await w.signedIn();
    const banner = page.getByText('The Hostrun API is not answering');
    await w.server.stop();
    // Any request now gets no answer: navigating to another page asks the API.
    await page.getByRole('navigation').getByRole('link', { name: 'Jobs' }).click();
    await banner.waitFor();
    await screenshot(page, 'api-unreachable');
    w.server = await startServer(w.s, w.db.url, { scheduler: false });
    // The live connection retries by itself; when it gets through, the banner goes.
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
    await context.close();
  });

  // The real server never answers like this; the browser is made to see it (page.route) to
  // check that a page survives an answer it did not expect.
  it('an unexpected or failed API answer shows an error on that page, and the rest keeps working', async () => {
    await firstUser();
    const { context, page } = await w.signedIn();
    await page.route(/\/api\/v1\/jobs(\?|$)/, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{"surprise":[1,2,3]}' }));
    await page.route(/\/api\/v1\/workers(\?|$)/, (route) => route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"internal","message":"internal error","details":[]}}' }));
    await page.getByRole('navigation').getByRole('link', { name: 'Jobs' }).click();
    await page.getByText('The answer from the server was not what this page expected').waitFor();
    await screenshot(page, 'unexpected-answer');
    await page.getByRole('navigation').getByRole('link', { name: 'Workers' }).click();
    await page.getByText('internal error').waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await context.close();
  });
});
