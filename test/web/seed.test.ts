import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.ts';
import { startSshd, type TestSshd } from '../support/sshd.ts';
import { BROWSER_UNAVAILABLE, startUiWorld, type UiWorld } from './world.ts';

// The seed user's story (seeds/000) in a real Chromium against a real SSH server: the seed
// config, pasted unchanged in shape into the new-job editor, becomes the job "Test" run every
// hour; "Run now" with a new ip runs it over SSH and the page shows it queued, running and
// succeeded with its output, live. The config names a public address: the test points `host`
// at 127.0.0.1 (a hosts row of that name supplies the port and the pinned key) and drops the
// repository (a clone would leave this machine). Nothing off 127.0.0.1 is contacted.

const SEED_FILE = new URL('../server/fixtures/seed-config.json', import.meta.url);

describe.skipIf(BROWSER_UNAVAILABLE)('the seed scenario in the browser, over SSH', () => {
  let w: UiWorld;
  let sshd: TestSshd;
  let page: Page;
  let source: string;

  beforeAll(async () => {
    w = await startUiWorld();
    sshd = await startSshd();
    console.log(`[hostrun tests] seed scenario: ${sshd.kind} on 127.0.0.1:${sshd.port}`);
    expect((await w.api('PUT', '/secrets/secret_key_ref', { value: sshd.privateKey })).status).toBeLessThan(300);
    const host = await w.api('PUT', '/hosts/127.0.0.1', { address: '127.0.0.1', port: sshd.port, username: sshd.user, fingerprint: sshd.fingerprint });
    expect(host.status).toBeLessThan(300);

    const seed = JSON.parse(readFileSync(SEED_FILE, 'utf8'));
    expect(Object.keys(seed)).toEqual(['name', 'host', 'username', 'ssh_key', 'os', 'repository', 'steps', 'inputs', 'schedule']);
    seed.host = '127.0.0.1';
    seed.username = sshd.user;
    seed.os = 'linux';
    delete seed.repository;
    // No python on the test host: the step prints the command it would run.
    seed.steps[1].run = `echo ${seed.steps[1].run}`;
    source = JSON.stringify(seed, null, 2);
    ({ page } = await w.signedIn());
  });

  afterAll(async () => {
    await w?.stop();
    await sshd?.stop();
  });

  it('creates "Test" from the seed config, scheduled every hour', async () => {
    await page.goto(`${w.url}/jobs/new`);
    await page.getByRole('textbox', { name: 'Job definition (YAML)' }).click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(source);
    await page.getByText('✓ Valid').waitFor();
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.waitForURL(`${w.url}/jobs/Test`);
    await page.getByTestId('schedule-words').getByText('Every hour').waitFor();
    const job = await w.api('GET', '/jobs/Test');
    expect(job.body.schedules).toHaveLength(1);
    expect(job.body.schedules[0].cron).toBe('0 */1 * * *');
  });

  it('runs it now with a new ip over SSH; the page shows it succeed with its output, without a reload', async () => {
    await page.getByRole('button', { name: 'Run now' }).first().click();
    const dialog = page.getByRole('dialog');
    const ip = dialog.getByLabel(/^ip/);
    expect(await ip.inputValue()).toBe('192.168.1.84'); // the default, filled in
    await ip.fill('10.1.2.3');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.getByText('Run queued').waitFor();
    await page.waitForURL(/\/runs\/\d+$/);
    const runId = Number(new URL(page.url()).pathname.split('/').pop());

    // The page changes by itself: no reload from here on. (That it passes through "running"
    // is shown deterministically by the runs tests, with a step that waits for the test.)
    const chip = page.locator('h1 [data-status]').first();
    await expect.poll(() => chip.getAttribute('data-status'), { timeout: 60_000 }).toBe('succeeded');
    const log = page.getByRole('log');
    await expect.poll(() => log.textContent(), { timeout: 20_000 }).toContain('python install_tizen_native_app.py 10.1.2.3 tizen_native/');
    expect(await log.textContent()).toContain(sshd.user); // whoami on the host
    const run = await w.api('GET', `/runs/${runId}`);
    expect(run.body.inputs ?? run.body.run?.inputs).toMatchObject({ ip: '10.1.2.3' });
    await screenshot(page, 'seed-run-over-ssh');
  });
});
