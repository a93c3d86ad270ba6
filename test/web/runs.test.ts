import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.ts';
import { BROWSER_UNAVAILABLE, PASSWORD, startUiWorld, type UiWorld } from './world.ts';

// The Runs pages in a real Chromium against `hostrun start` with its local worker: a run's
// status and output arrive live without a reload (queued → running → succeeded, ANSI colours
// rendered, stderr marked), a failing run points at its failing step, cancel and re-run from
// the page, the list updating rows live, filters kept in the URL, log search, viewers, and
// the phone layout in dark mode.
//
// Runs wait on files the test creates (one temp directory per file run), never on sleeps, so
// "queued" and "running" are states the test holds the run in, not moments it hopes to catch.

// A run of `gated` holds its concurrency slot until its `gate` file exists: a second run waits
// queued behind the first, and each stays running until the test opens its gate.
const GATED = `name: gated
runs-on: local
concurrency: gated
inputs:
  gate:
    description: File that lets the run finish
    required: true
steps:
  - name: prepare
    run: |
      sleep 0.2
      printf '\\033[32mgreen\\033[0m and plain\\n'
      echo "careful: a warning" >&2
      while [ ! -f \${{ inputs.gate }} ]; do sleep 0.1; done
  - name: finish
    run: echo all done
`;

const BOOM = `name: boom
runs-on: local
steps:
  - name: warm up
    run: echo starting
  - name: explode
    run: |
      echo boom >&2
      exit 3
  - name: never
    run: echo unreachable
`;

const LONG = `name: long
runs-on: local
steps:
  - name: nap
    run: sleep 300
`;

const CHATTY = `name: chatty
runs-on: local
steps:
  - name: count
    run: seq 1 6000
`;

describe.skipIf(BROWSER_UNAVAILABLE)('web UI: runs', () => {
  let w: UiWorld;
  let gates: string;

  const startRun = async (job: string, inputs: Record<string, unknown> = {}): Promise<number> => {
    const r = await w.api('POST', `/jobs/${job}/runs`, { inputs });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as number;
  };
  const runStatus = async (id: number): Promise<string> => (await w.api('GET', `/runs/${id}`)).body.status;
  const chip = (page: Page) => page.getByRole('heading', { level: 1 }).locator('[data-status]');

  beforeAll(async () => {
    w = await startUiWorld();
    gates = mkdtempSync(path.join(tmpdir(), 'hostrun-web-runs-'));
    for (const source of [GATED, BOOM, LONG, CHATTY]) {
      const r = await w.api('POST', '/jobs', { source });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
  });

  afterAll(async () => {
    await w?.stop();
    if (gates) rmSync(gates, { recursive: true, force: true });
  });

  it('shows a run go queued → running → succeeded with its output live, without a reload', async () => {
    // The first run takes the job's only slot; the second waits queued behind it.
    const first = await startRun('gated', { gate: path.join(gates, 'first') });
    await expect.poll(() => runStatus(first)).toBe('running');
    const id = await startRun('gated', { gate: path.join(gates, 'second') });

    const { context, page } = await w.signedIn();
    await page.goto(`${w.url}/runs/${id}`);
    await page.getByRole('heading', { name: `Run #${id} of gated` }).waitFor();
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await expect.poll(() => chip(page).textContent()).toBe('queued');
    await expect.poll(() => page.getByRole('log', { name: 'Run log' }).textContent()).toContain('Waiting for output');

    writeFileSync(path.join(gates, 'first'), '');
    await expect.poll(() => chip(page).textContent(), { timeout: 20_000 }).toBe('running');

    // Output arrives while the run is still running (it waits for the second gate).
    const log = page.getByRole('log', { name: 'Run log' });
    await expect.poll(() => log.textContent(), { timeout: 20_000 }).toContain('careful: a warning');
    const green = log.locator('[data-ansi="green"]');
    expect(await green.textContent()).toBe('green');
    const color = await green.evaluate((el) => getComputedStyle(el).color);
    const [r, g, b] = color.match(/\d+/g)!.map(Number) as [number, number, number];
    expect(g).toBeGreaterThan(r + 40);
    expect(g).toBeGreaterThan(b + 40);
    const text = (await log.textContent())!;
    expect(text).toContain('green and plain');
    expect(text).not.toContain('[32m');
    expect(text).not.toContain('\u001b');
    // stderr is marked in words, not only by its tint.
    const stderrLine = log.locator('[data-stream="stderr"]');
    expect(await stderrLine.textContent()).toContain('err');
    expect(await stderrLine.textContent()).toContain('stderr:');
    await expect.poll(() => page.getByRole('listitem', { name: 'Step 1: prepare, running' }).count()).toBe(1);
    expect(await chip(page).textContent()).toBe('running');
    await screenshot(page, 'run-live');

    writeFileSync(path.join(gates, 'second'), '');
    await expect.poll(() => chip(page).textContent(), { timeout: 20_000 }).toBe('succeeded');
    await expect.poll(() => log.textContent()).toContain('all done');
    await expect.poll(() => page.getByRole('listitem', { name: 'Step 2: finish, succeeded' }).count()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await screenshot(page, 'run-succeeded');

    // Search: the match is counted, highlighted, and next/previous move through matches.
    await page.getByLabel('Search the log').fill('ALL DONE');
    const count = page.locator('#log-search-count');
    await expect.poll(() => count.textContent()).toBe('1 of 1');
    expect(await log.locator('mark[data-current]').textContent()).toBe('all done');
    await page.getByLabel('Search the log').fill('a');
    await expect.poll(() => count.textContent()).toMatch(/^1 of \d+$/);
    await page.getByRole('button', { name: 'Next match' }).click();
    await expect.poll(() => count.textContent()).toMatch(/^2 of \d+$/);
    await page.getByLabel('Timestamps').check();
    await expect.poll(() => log.locator('time').count()).toBeGreaterThan(0);
    await screenshot(page, 'run-search');
    await page.getByLabel('Search the log').fill('no such text anywhere');
    await expect.poll(() => count.textContent()).toBe('no match');
    await context.close();
  });

  it('shows the failing step of a failed run with its exit code and stderr, and re-runs it', async () => {
    const id = await startRun('boom');
    await expect.poll(() => runStatus(id), { timeout: 20_000 }).toBe('failed');

    const { context, page } = await w.signedIn();
    await page.goto(`${w.url}/runs/${id}`);
    await expect.poll(() => chip(page).textContent()).toBe('failed');
    const failing = page.getByRole('listitem', { name: 'Step 2: explode, failed' });
    await failing.waitFor();
    await expect.poll(() => failing.textContent()).toContain('exit code 3');
    expect(await failing.textContent()).toContain('boom');
    expect(await page.getByRole('listitem', { name: 'Step 3: never, skipped' }).count()).toBe(1);
    expect(await page.getByRole('alert').filter({ hasText: 'exit code 3' }).count()).toBe(1);
    await expect.poll(() => page.getByRole('log', { name: 'Run log' }).locator('[data-stream="stderr"]').textContent()).toContain('boom');
    await screenshot(page, 'run-failed');

    await page.getByRole('button', { name: 'Re-run', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Run queued' }).waitFor();
    await expect.poll(() => page.url()).not.toBe(`${w.url}/runs/${id}`);
    const rerun = Number(new URL(page.url()).pathname.split('/').pop());
    expect(rerun).toBeGreaterThan(id);
    await page.getByRole('heading', { name: `Run #${rerun} of boom` }).waitFor();
    await page.getByRole('link', { name: `#${id}` }).waitFor(); // "re-run of #id"
    const body = (await w.api('GET', `/runs/${rerun}`)).body;
    expect(body.trigger).toBe('rerun');
    expect(body.parent_run_id).toBe(id);
    await context.close();
  });

  it('re-runs with changed inputs through the Run now form filled with the run\'s inputs', async () => {
    const open = path.join(gates, 'open-before');
    const changed = path.join(gates, 'open-changed');
    writeFileSync(open, '');
    writeFileSync(changed, '');
    const id = await startRun('gated', { gate: open });
    await expect.poll(() => runStatus(id), { timeout: 20_000 }).toBe('succeeded');

    const { context, page } = await w.signedIn();
    await page.goto(`${w.url}/runs/${id}`);
    await page.getByRole('button', { name: 'Re-run with changes…' }).click();
    const dialog = page.getByRole('dialog', { name: `Re-run #${id} of gated` });
    const gate = dialog.getByLabel('gate (required)');
    await expect.poll(() => gate.inputValue()).toBe(open);
    await gate.fill(changed);
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.getByRole('status').filter({ hasText: 'Run queued' }).waitFor();
    await expect.poll(() => page.url()).not.toBe(`${w.url}/runs/${id}`);
    const rerun = Number(new URL(page.url()).pathname.split('/').pop());
    await page.getByRole('heading', { name: `Run #${rerun} of gated` }).waitFor();
    await page.getByText(changed).waitFor();
    await expect.poll(() => chip(page).textContent(), { timeout: 20_000 }).toBe('succeeded');
    expect((await w.api('GET', `/runs/${rerun}`)).body).toMatchObject({ trigger: 'rerun', parent_run_id: id, inputs: { gate: changed } });
    await context.close();
  });

  it('cancels a long run from its page after confirming', async () => {
    const id = await startRun('long');
    const { context, page } = await w.signedIn();
    await page.goto(`${w.url}/runs/${id}`);
    await expect.poll(() => chip(page).textContent(), { timeout: 20_000 }).toBe('running');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    const dialog = page.getByRole('dialog', { name: `Cancel run #${id}?` });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel run' }).click();
    await expect.poll(() => chip(page).textContent(), { timeout: 30_000 }).toBe('canceled');
    expect(await runStatus(id)).toBe('canceled');
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    await context.close();
  });

  it('updates a row of the runs list live, and keeps filters in the URL', async () => {
    const failed = await startRun('boom');
    await expect.poll(() => runStatus(failed), { timeout: 20_000 }).toBe('failed');
    const { context, page } = await w.signedIn();
    await page.goto(`${w.url}/runs`);
    const table = page.getByRole('table', { name: 'Runs' });
    await table.locator(`tr[data-run-id="${failed}"]`).waitFor();
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

    const id = await startRun('gated', { gate: path.join(gates, 'list') });
    const row = table.locator(`tr[data-run-id="${id}"]`);
    await expect.poll(() => row.locator('[data-status]').textContent(), { timeout: 20_000 }).toBe('running');
    await screenshot(page, 'runs-list');
    writeFileSync(path.join(gates, 'list'), '');
    await expect.poll(() => row.locator('[data-status]').textContent(), { timeout: 20_000 }).toBe('succeeded');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

    // Filters: in the URL, kept across a reload, and the rows follow them.
    await page.getByLabel('Status').selectOption('failed');
    await expect.poll(() => new URL(page.url()).searchParams.get('status')).toBe('failed');
    await page.getByLabel('Job').selectOption('boom');
    const onlyFailedBooms = async () => {
      const rows = page.getByRole('table', { name: 'Runs' }).locator('tbody tr');
      const statuses = await rows.locator('[data-status]').allTextContents();
      const jobs = await rows.locator('td:nth-child(2)').allTextContents();
      return statuses.length > 0 && statuses.every((s) => s === 'failed') && jobs.every((j) => j === 'boom');
    };
    await expect.poll(onlyFailedBooms).toBe(true);
    await page.reload();
    await expect.poll(() => page.getByLabel('Job').inputValue()).toBe('boom');
    expect(await page.getByLabel('Status').inputValue()).toBe('failed');
    await expect.poll(onlyFailedBooms).toBe(true);
    await page.getByLabel('Trigger').selectOption('schedule');
    await page.getByText('No runs match these filters').waitFor();
    await screenshot(page, 'runs-list-no-match');
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await expect.poll(() => new URL(page.url()).search).toBe('');
    await context.close();
  });

  it('pages through many runs with Load more', async () => {
    // Enough finished runs to need a second page of 50.
    const total = (await w.api('GET', '/runs?limit=500')).body.runs.length as number;
    for (let i = total; i < 55; i++) await startRun('boom');
    const { context, page } = await w.signedIn();
    await page.goto(`${w.url}/runs`);
    const rows = page.getByRole('table', { name: 'Runs' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(50);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(55);
    await page.getByText(/runs · that is all/).waitFor();
    await context.close();
  });

  it('keeps a long log to its newest 5,000 lines, with the whole log a download away', async () => {
    const id = await startRun('chatty');
    await expect.poll(() => runStatus(id), { timeout: 20_000 }).toBe('succeeded');
    const { context, page } = await w.signedIn();
    await page.goto(`${w.url}/runs/${id}`);
    await page.getByText('Showing the last 5,000 of 6,000 lines').waitFor();
    const log = page.getByRole('log', { name: 'Run log' });
    expect(await log.locator('[data-line-index]').count()).toBe(5000);
    expect(await log.locator('[data-line-index]').first().textContent()).toContain('1001');
    expect(await log.locator('[data-line-index]').last().textContent()).toContain('6000');
    // Following: the newest line is in view.
    expect(await log.locator('[data-line-index]').last().isVisible()).toBe(true);
    const href = await page.getByRole('link', { name: 'Download the full log' }).getAttribute('href');
    const text = await page.evaluate(async (url) => (await fetch(url!)).text(), href);
    expect(text.split('\n').slice(0, 2)).toEqual(['1', '2']);
    expect(text.trimEnd().split('\n')).toHaveLength(6000);

    // Lines not shown are searched on the server.
    await page.getByLabel('Search the log').fill('17');
    await page.getByText('“17” also appears earlier in the log, in lines not shown here.').waitFor();
    await page.getByLabel('Search the log').fill('');

    // Scrolling up stops following; the Follow button brings the newest line back.
    await log.evaluate((el) => (el.scrollTop = 0));
    await page.getByRole('button', { name: 'Follow', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Follow', exact: true }).click();
    await page.getByRole('button', { name: 'Following' }).waitFor();
    await expect.poll(() => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(30);
    await context.close();
  });

  it('shows viewers no cancel or re-run, and the run page fits a phone in dark mode', async () => {
    const id = await startRun('boom');
    await expect.poll(() => runStatus(id), { timeout: 20_000 }).toBe('failed');
    const viewer = await w.createUser('viewer-runs@example.com', 'viewer');
    // Signed in at desktop width (signedIn waits for the sidebar, which a phone folds away), then narrowed.
    const { context, page } = await w.signedIn({ email: viewer.email, password: PASSWORD, dark: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${w.url}/runs/${id}`);
    await page.getByRole('listitem', { name: 'Step 2: explode, failed' }).waitFor();
    await expect.poll(() => page.getByRole('log', { name: 'Run log' }).textContent()).toContain('boom');
    expect(await page.getByRole('button', { name: /Re-run|Cancel run/ }).count()).toBe(0);
    // Nothing wider than the phone: the page does not scroll sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'run-phone-dark');

    await page.getByRole('button', { name: 'Open menu' }).click();
    await page.getByRole('complementary', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('table', { name: 'Runs' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'runs-list-phone-dark');
    await context.close();
  });
});
