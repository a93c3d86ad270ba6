import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newContext, screenshot } from '../support/browser.ts';
import { ADMIN, BROWSER_UNAVAILABLE, startUiWorld, type UiWorld } from './world.ts';

// The Jobs pages in a real Chromium, following the seed scenario: Alice creates the job "Test"
// from the seed config (made local: no host, and the second step only prints the python
// command), sees it scheduled every hour with its next five fire times, catches a typo at its
// line while typing, runs it now with a new ip (a malformed ip refused in the form first),
// compares two versions, and a viewer can neither see nor use the Run button.

/** The seed config (examples/seed-config.json) without its SSH host, ip checked by a pattern. */
const SEED = {
  name: 'Test',
  steps: [{ run: 'whoami' }, { run: 'echo python install_tizen_native_app.py ${{ inputs.ip }} ${{ inputs.filepath }}' }],
  inputs: {
    ip: { default: '192.168.1.84', pattern: '^\\d{1,3}(\\.\\d{1,3}){3}$' },
    filepath: 'tizen_native/preprod-tizennative-weakssl-5.18.11604-17858.tpk',
  },
  on: { schedule: '0 */1 * * *' },
};
const SEED_SOURCE = JSON.stringify(SEED, null, 2);

function editor(page: Page) {
  return page.getByRole('textbox', { name: 'Job definition (YAML)' });
}

/** Puts the cursor at the end of the editor line containing `text`. */
async function endOfLine(page: Page, text: string): Promise<void> {
  await page.locator('.cm-line', { hasText: text }).first().click();
  await page.keyboard.press('End');
}

/** Like w.signedIn, but also at a phone width, where the navigation is behind the menu button. */
async function signedInAt(w: UiWorld, opts: { phone?: boolean; dark?: boolean }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(w.browser, opts);
  const page = await context.newPage();
  await page.goto(`${w.url}/jobs`);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  return { context, page };
}

describe.skipIf(BROWSER_UNAVAILABLE)('jobs pages', () => {
  let w: UiWorld;
  let page: Page;

  beforeAll(async () => {
    w = await startUiWorld();
    ({ page } = await w.signedIn());
  });

  afterAll(async () => {
    await w?.stop();
  });

  it('says how to create the first job, then creates "Test" from the seed config pasted into the editor', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Jobs' }).click();
    await page.getByText('No jobs yet').waitFor();
    await expect.poll(() => page.getByText('hostrun job apply -f job.yaml').isVisible()).toBe(true);

    await page.getByRole('link', { name: 'New job' }).first().click();
    await page.waitForURL(`${w.url}/jobs/new`);
    await editor(page).click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(SEED_SOURCE);
    await page.getByText('✓ Valid').waitFor();
    await expect.poll(() => page.getByText(/Every hour, UTC/).count()).toBeGreaterThan(0);
    await screenshot(page, 'new-job');
    await page.getByRole('button', { name: 'Create job' }).click();

    await page.waitForURL(`${w.url}/jobs/Test`);
    await page.getByRole('heading', { name: /Test/ }).waitFor();
    const stored = await w.api('GET', '/jobs/Test');
    expect(stored.status).toBe(200);
    expect(stored.body.source).toBe(SEED_SOURCE);
  });

  it('shows the schedule in words with its next five fire times', async () => {
    await page.getByTestId('schedule-words').getByText('Every hour').waitFor();
    const times = page.getByRole('list', { name: /^Next fire times/ }).getByRole('listitem');
    await expect.poll(() => times.count()).toBe(5);
    const shown = await page.getByRole('list', { name: /^Next fire times/ }).locator('time').evaluateAll((els) => els.map((e) => e.getAttribute('datetime')));
    const api = await w.api('GET', '/jobs/Test');
    expect(shown).toEqual(api.body.schedules[0].next_fire_times);
    // Inputs and steps as declared.
    await page.getByRole('table', { name: 'Inputs' }).getByText('192.168.1.84').waitFor();
    await page.locator('pre', { hasText: 'echo python install_tizen_native_app.py ${{ inputs.ip }}' }).waitFor();
    await screenshot(page, 'job-overview');
  });

  it('shows an invalid edit at its line while typing and refuses to save it; undo makes it valid again', async () => {
    await page.getByRole('tab', { name: 'Definition' }).click();
    await editor(page).waitFor();
    const save = page.getByRole('button', { name: 'Save new version' });
    await expect.poll(() => save.isDisabled()).toBe(true); // nothing changed yet

    await endOfLine(page, '"name": "Test",');
    await page.keyboard.insertText(' "timeout_minutes": 5,');
    const problems = page.getByRole('list', { name: 'Problems in the definition' });
    await problems.getByText('unknown key "timeout_minutes"; did you mean "timeout-minutes"?').waitFor();
    expect(await problems.getByRole('listitem').first().textContent()).toMatch(/^Line 2:/);
    // Marked at its line in the editor too.
    await expect.poll(() => page.locator('.cm-lint-marker-error').count()).toBeGreaterThan(0);
    expect(await save.isDisabled()).toBe(true);
    await screenshot(page, 'job-editor-error');

    await editor(page).press('Control+z');
    await page.getByText('✓ Valid').waitFor();
    expect(await problems.count()).toBe(0);
    expect(await save.isDisabled()).toBe(true); // back to the saved text
  });

  it('saves a second version', async () => {
    // Enter keeps the line's indentation, so the new key lines up with "name".
    await endOfLine(page, '"name": "Test",');
    await page.keyboard.press('Enter');
    await page.keyboard.type('"description": "Installs the Tizen app on a TV",');
    await page.getByText('✓ Valid').waitFor();
    expect(await page.locator('.cm-line').nth(2).textContent()).toBe('  "description": "Installs the Tizen app on a TV",');
    expect(await page.getByRole('button', { name: 'Save new version' }).isEnabled()).toBe(true);
    await page.keyboard.press('Control+s'); // the same as the button
    await page.getByRole('status').filter({ hasText: 'Saved version 2' }).waitFor();
    await expect.poll(async () => (await w.api('GET', '/jobs/Test')).body.version).toBe(2);
    await page.getByText('Installs the Tizen app on a TV').first().waitFor();
  });

  it('runs it now with a new ip: a malformed ip is refused in the form, a good one queues the run', async () => {
    await page.getByRole('button', { name: 'Run now' }).click();
    const dialog = page.getByRole('dialog', { name: 'Run Test' });
    const ip = dialog.getByLabel('ip', { exact: true });
    await expect.poll(() => ip.inputValue()).toBe('192.168.1.84');
    expect(await dialog.getByLabel('filepath', { exact: true }).inputValue()).toBe(SEED.inputs.filepath);
    await screenshot(page, 'run-now-dialog');

    await ip.fill('192.168.1');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await dialog.getByText('Does not match the pattern').waitFor();
    expect(await ip.getAttribute('aria-invalid')).toBe('true');
    expect((await w.api('GET', '/runs')).body.runs).toHaveLength(0);

    await screenshot(page, 'run-now-dialog-error');

    // What only the API can refuse is shown in the dialog, at the field it names.
    await page.route('**/api/v1/jobs/Test/runs', (route) =>
      route.fulfill({
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'invalid_input', message: 'invalid inputs: inputs.ip: not reachable', details: [{ path: 'inputs.ip', message: 'not reachable from here' }] } }),
      }),
    );
    await ip.fill('10.0.0.7');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await dialog.getByText('not reachable from here').waitFor();
    await dialog.getByRole('alert').filter({ hasText: 'invalid inputs: inputs.ip: not reachable' }).waitFor();
    await page.unroute('**/api/v1/jobs/Test/runs');

    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.getByRole('status').filter({ hasText: 'Run queued' }).waitFor();
    await page.waitForURL(/\/runs\/\d+$/);
    const id = Number(/\/runs\/(\d+)$/.exec(page.url())![1]);
    const run = await w.api('GET', `/runs/${id}`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ job_name: 'Test', job_version: 2, trigger: 'manual', inputs: { ip: '10.0.0.7', filepath: SEED.inputs.filepath } });
  });

  it('shows the diff between v1 and v2, and the run under recent runs', async () => {
    await page.goto(`${w.url}/jobs/Test?tab=versions`);
    const diff = page.getByRole('region', { name: 'Changes from v1 to v2' });
    await diff.waitFor();
    expect(await diff.locator('[data-diff="add"]').allTextContents()).toEqual(['added: +  "description": "Installs the Tizen app on a TV",']);
    expect(await diff.locator('[data-diff="del"]').count()).toBe(0);
    await screenshot(page, 'versions-diff');

    // Unsaved edits survive a look at another tab.
    await page.getByRole('tab', { name: 'Definition' }).click();
    await endOfLine(page, '"whoami"');
    await page.keyboard.insertText(' ');
    await page.getByRole('tab', { name: 'Versions' }).click();
    await page.getByRole('tab', { name: 'Definition' }).click();
    expect(await page.locator('.cm-line', { hasText: '"whoami"' }).textContent()).toBe('      "run": "whoami" ');
    await editor(page).press('Control+z');

    await page.getByRole('tab', { name: 'Recent runs' }).click();
    const runs = page.getByRole('table', { name: 'Recent runs' });
    await runs.getByRole('link', { name: /^#\d+$/ }).first().waitFor();
  });

  it('lists jobs with their schedule, last run and next fire time; search and filters narrow the list', async () => {
    // A few more jobs, so the list shows what a team's list looks like.
    const more = [
      'name: nightly-backup\ndescription: Dumps the database to object storage\non:\n  schedule:\n    - cron: "30 2 * * *"\n      timezone: Europe/Berlin\nsteps:\n  - run: echo backup\n',
      'name: cleanup-tmp\non:\n  schedule:\n    - every: 15m\nsteps:\n  - run: echo cleanup\n',
      'name: flaky-check\ndescription: Fails on purpose\nsteps:\n  - run: exit 3\n',
    ];
    for (const source of more) expect((await w.api('POST', '/jobs', { source })).status).toBe(201);
    expect((await w.api('POST', '/jobs/cleanup-tmp/disable')).status).toBe(200);
    const failing = await w.api('POST', '/jobs/flaky-check/runs', {});
    await expect.poll(async () => (await w.api('GET', `/runs/${failing.body.id}`)).body.status, { timeout: 30_000 }).toBe('failed');

    await page.getByRole('navigation').getByRole('link', { name: 'Jobs' }).click();
    const table = page.getByRole('table', { name: 'Jobs' });
    const rowOf = (name: string) => table.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
    const row = rowOf('Test');
    await row.getByRole('cell', { name: 'Every hour, UTC', exact: true }).waitFor();
    await row.locator('[data-status]').waitFor();
    expect(await row.locator('time').count()).toBeGreaterThanOrEqual(2);
    await rowOf('nightly-backup').getByRole('cell', { name: 'At 02:30 every day, Europe/Berlin', exact: true }).waitFor();
    await rowOf('flaky-check').getByText('failed').waitFor();
    await rowOf('cleanup-tmp').getByText('disabled').first().waitFor();
    await screenshot(page, 'jobs-list');

    await page.getByLabel('Search jobs by name').fill('nothing-like-this');
    await page.getByText('No job matches these filters').waitFor();
    await page.getByRole('button', { name: 'Clear the search and filters' }).click();
    await row.waitFor();
    await page.getByLabel('Search jobs by name').fill('back');
    await expect.poll(() => table.getByRole('link').allTextContents()).toEqual(['nightly-backup']);
    await page.getByLabel('Search jobs by name').fill('');
    await page.getByLabel('Enabled or disabled').selectOption('disabled');
    await expect.poll(() => table.getByRole('link').allTextContents()).toEqual(['cleanup-tmp']);
    await page.getByLabel('Enabled or disabled').selectOption('');
    await page.getByLabel('Status of the last run').selectOption('failed');
    await expect.poll(() => table.getByRole('link', { name: /^[\w-]+$/ }).allTextContents()).toEqual(['flaky-check']);
    await page.getByLabel('Status of the last run').selectOption('never');
    await expect.poll(() => table.getByRole('link').allTextContents()).toEqual(['cleanup-tmp', 'nightly-backup']);
    await page.getByLabel('Status of the last run').selectOption('');
    await row.waitFor();

    for (const opts of [{ phone: true, name: 'jobs-list-phone' }, { dark: true, name: 'jobs-list-dark' }]) {
      const other = await signedInAt(w, opts);
      await other.page.goto(`${w.url}/jobs`);
      await other.page.getByRole('link', { name: 'Test', exact: true }).waitFor();
      await screenshot(other.page, opts.name);
      // The job page and its editor in the same setting, to look at.
      await other.page.getByRole('link', { name: 'Test', exact: true }).click();
      await other.page.getByTestId('schedule-words').waitFor();
      await screenshot(other.page, opts.name.replace('jobs-list', 'job-overview'));
      await other.page.getByRole('tab', { name: 'Definition' }).click();
      await other.page.getByText('✓ Valid').waitFor();
      await screenshot(other.page, opts.name.replace('jobs-list', 'job-editor'));
      await other.context.close();
    }

    // Run straight from the list: the same dialog.
    await page.getByRole('button', { name: 'Run nightly-backup now' }).click();
    await page.getByRole('dialog', { name: 'Run nightly-backup' }).getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/\d+$/);
    expect((await w.api('GET', `/runs/${/\/runs\/(\d+)$/.exec(page.url())![1]}`)).body.job_name).toBe('nightly-backup');
  });

  it('pauses and resumes a schedule, shows a webhook URL to copy, and deletes a job after confirmation', async () => {
    await page.goto(`${w.url}/jobs/Test`);
    const times = page.getByRole('list', { name: /^Next fire times/ }).getByRole('listitem');
    await expect.poll(() => times.count()).toBe(5);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('status').filter({ hasText: 'Schedule paused' }).waitFor();
    await page.getByText('Paused: resume it to see when it fires next.').waitFor();
    expect((await w.api('GET', '/jobs/Test')).body.schedules[0].enabled).toBe(false);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => times.count()).toBe(5);

    const hook = await w.api('POST', '/jobs', { source: 'name: deploy\non:\n  webhook: true\nsteps:\n  - run: echo deployed\n' });
    expect(hook.status).toBe(201);
    await page.goto(`${w.url}/jobs/deploy`);
    const url = page.getByLabel('POST to this URL to start a run');
    await expect.poll(() => url.inputValue()).toMatch(new RegExp(`^${w.url}/api/v1/hooks/wh_[A-Za-z0-9_-]+$`));
    await page.getByRole('button', { name: 'Copy webhook URL' }).waitFor();
    await page.getByText('Manual only').or(page.getByText('Runs only when started by hand')).first().waitFor();

    await page.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete deploy?' });
    await confirm.getByRole('button', { name: 'Delete job' }).click();
    await page.waitForURL(`${w.url}/jobs`);
    await page.getByRole('status').filter({ hasText: 'Deleted deploy' }).waitFor();
    expect((await w.api('GET', '/jobs/deploy')).status).toBe(404);
  });

  it('shows a viewer no Run, Save or New buttons, and the API refuses the viewer a run', async () => {
    const viewer = await w.createUser('viewer@example.com', 'viewer');
    const { context, page: vp } = await w.signedIn({ email: viewer.email, password: viewer.password });
    await vp.goto(`${w.url}/jobs`);
    await vp.getByRole('link', { name: 'Test', exact: true }).waitFor();
    expect(await vp.getByRole('link', { name: 'New job' }).count()).toBe(0);
    expect(await vp.getByRole('button', { name: /^Run .* now$/ }).count()).toBe(0);

    await vp.getByRole('link', { name: 'Test', exact: true }).click();
    await vp.getByTestId('schedule-words').waitFor();
    expect(await vp.getByRole('button', { name: 'Run now' }).count()).toBe(0);
    expect(await vp.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    expect(await vp.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    await vp.getByRole('tab', { name: 'Definition' }).click();
    await vp.getByText('Read only: developers can change the definition.').waitFor();
    expect(await vp.getByRole('button', { name: /Save/ }).count()).toBe(0);
    await context.close();

    const token = await w.api('POST', '/tokens', { name: 'viewer token', role: 'viewer' });
    expect(token.status).toBe(201);
    const refused = await w.api('POST', '/jobs/Test/runs', { inputs: { ip: '10.0.0.8' } }, { token: token.body.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
  });
});
