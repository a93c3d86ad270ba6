import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('creates the first user from the setup link, then signs out and in again', async () => {
    const context = await w.browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${w.url}/setup?token=${w.setupToken}`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create user and sign in' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).waitFor();
    expect(page.url()).toBe(`${w.url}/`);
    await screenshot(page, 'dashboard');

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
});
