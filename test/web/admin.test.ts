import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.ts';
import { startSshd, type TestSshd } from '../support/sshd.ts';
import { BROWSER_UNAVAILABLE, startUiWorld, type UiWorld } from './world.ts';

// The admin pages in a real Chromium against `hostrun start`: the dashboard after real runs,
// a secret stored and never shown again, a host added through the UI against a real SSH
// server with its key confirmed before it is pinned and the connection tested, a project
// token shown once, and a viewer who sees none of the admin controls.

const FLAKY = `name: flaky
runs-on: local
on:
  schedule:
    - cron: "0 * * * *"
      timezone: Europe/Berlin
inputs:
  code:
    default: "0"
steps:
  - name: maybe fail
    run: exit \${{ inputs.code }}
`;

describe.skipIf(BROWSER_UNAVAILABLE)('web UI admin pages', () => {
  let w: UiWorld;
  let sshd: TestSshd;

  beforeAll(async () => {
    w = await startUiWorld();
    sshd = await startSshd();
  });

  afterAll(async () => {
    await sshd?.stop();
    await w?.stop();
  });

  async function runAndWait(inputs: Record<string, string>): Promise<number> {
    const r = await w.api('POST', '/jobs/flaky/runs', { inputs });
    expect(r.status).toBe(201);
    const id = r.body.id as number;
    await expect.poll(async () => (await w.api('GET', `/runs/${id}`)).body.status, { timeout: 30_000 }).toMatch(/^(succeeded|failed)$/);
    return id;
  }

  it('a new project: the dashboard says how to create the first job', async () => {
    const { context, page } = await w.signedIn();
    await page.getByText('Create your first job').waitFor();
    await expect.poll(() => page.getByRole('main').textContent()).toContain('hostrun job apply -f job.yaml');
    await context.close();
  });

  it('the dashboard counts the last 24 h by status, names the failing job, and lists recent runs', async () => {
    expect((await w.api('POST', '/jobs', { source: FLAKY })).status).toBe(201);
    await runAndWait({});
    await runAndWait({});
    const failed = await runAndWait({ code: '3' });

    const { context, page } = await w.signedIn();
    const byStatus = page.getByRole('list', { name: 'Runs by status' });
    await expect.poll(() => byStatus.getByRole('listitem').filter({ hasText: 'succeeded' }).textContent()).toMatch(/succeeded\s*2$/);
    await expect.poll(() => byStatus.getByRole('listitem').filter({ hasText: 'failed' }).textContent()).toMatch(/failed\s*1$/);
    await expect.poll(() => page.getByLabel('Success rate: 66.7%').count()).toBe(1);
    await expect.poll(() => page.getByRole('link', { name: `run #${failed}` }).count()).toBe(1);
    await page.getByRole('link', { name: 'flaky' }).first().waitFor();
    await expect.poll(() => page.getByRole('table', { name: 'Recent runs' }).getByRole('row').count()).toBe(4);
    // Its schedule, in words, with the next fire time (the test server fires nothing).
    await expect.poll(() => page.getByRole('list', { name: 'Next scheduled runs' }).textContent()).toMatch(/Europe\/Berlin.*in \d+ min|Europe\/Berlin.*in a few seconds|Europe\/Berlin.*in 1 h/);
    // The worker of `hostrun start` is online.
    await expect.poll(() => page.getByLabel('Workers online: 1').count()).toBe(1);
    await screenshot(page, 'dashboard');

    // A new run shows up without a reload (the live connection refreshes the dashboard).
    await runAndWait({});
    await expect.poll(() => byStatus.getByRole('listitem').filter({ hasText: 'succeeded' }).textContent(), { timeout: 10_000 }).toMatch(/succeeded\s*3$/);
    await context.close();

    const dark = await w.signedIn({ dark: true });
    await dark.page.getByRole('list', { name: 'Runs by status' }).waitFor();
    await screenshot(dark.page, 'dashboard-dark');
    await dark.context.close();

    // Signed in at desktop width (the phone layout hides the navigation the sign-in waits for).
    const phone = await w.signedIn();
    await phone.page.setViewportSize({ width: 390, height: 844 });
    await phone.page.getByRole('list', { name: 'Runs by status' }).waitFor();
    await screenshot(phone.page, 'dashboard-phone');
    await phone.context.close();
  });

  it('stores a secret through the UI and never shows its value again', async () => {
    const { context, page } = await w.signedIn();
    await page.getByRole('navigation').getByRole('link', { name: 'Secrets' }).click();
    await page.getByText('No secrets yet').waitFor();
    await page.getByRole('button', { name: 'New secret' }).first().click();
    await page.getByLabel('Name').fill('deploy_key');
    await page.getByLabel('Value', { exact: true }).fill(sshd.privateKey);
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByRole('cell', { name: 'deploy_key', exact: true }).waitFor();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

    const secretLine = sshd.privateKey.split('\n')[1]!;
    expect(await page.content()).not.toContain(secretLine);
    // Replacing opens an empty field: the old value is not sent back to fill it. The new value
    // comes from a file, read in the browser.
    await page.getByRole('button', { name: 'Replace secret deploy_key' }).click();
    expect(await page.getByLabel('Value', { exact: true }).inputValue()).toBe('');
    await page.getByLabel('Or read from a file').setInputFiles({ name: 'id_ed25519', mimeType: 'text/plain', buffer: Buffer.from(sshd.privateKey) });
    await page.getByText('Read from id_ed25519').waitFor();
    await page.getByRole('button', { name: 'Replace secret', exact: true }).click();
    await page.getByText('Secret deploy_key replaced').waitFor();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect(await page.content()).not.toContain(secretLine);
    await screenshot(page, 'secrets');

    for (const path of ['/secrets', '/audit']) {
      const r = await w.api('GET', path);
      expect(r.status).toBe(200);
      expect(JSON.stringify(r.body)).not.toContain(secretLine);
    }
    await context.close();
  });

  it('adds a host: shows its key for confirmation, pins it, and tests the connection', async () => {
    const { context, page } = await w.signedIn();
    await page.getByRole('navigation').getByRole('link', { name: 'Hosts' }).click();
    await page.getByText('No hosts yet').waitFor();
    await page.getByRole('button', { name: 'Add host' }).first().click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('box');
    await dialog.getByLabel('User').fill(sshd.user);
    await dialog.getByLabel('Address').fill('127.0.0.1');
    await dialog.getByLabel('Port').fill(String(sshd.port));
    await dialog.getByLabel('Labels').fill('test, loopback');
    await dialog.getByLabel('Key secret').selectOption('deploy_key');
    await screenshot(page, 'host-add-form');
    await dialog.getByRole('button', { name: 'Add host and read its key' }).click();

    // The key is shown, and nothing is pinned until the person confirms it.
    await dialog.getByText(sshd.fingerprint).waitFor();
    expect((await w.api('GET', '/hosts/box')).body.host.fingerprint).toBeNull();
    await screenshot(page, 'host-add-fingerprint');
    await dialog.getByRole('button', { name: 'Confirm and pin this key' }).click();
    await dialog.getByText('Host key pinned').waitFor();
    expect((await w.api('GET', '/hosts/box')).body.host.fingerprint).toBe(sshd.fingerprint);

    await dialog.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => dialog.getByRole('status').textContent(), { timeout: 30_000 }).toContain(`Connected as ${sshd.user}`);
    await dialog.getByRole('button', { name: 'Done' }).click();

    const row = page.getByRole('table', { name: 'Hosts' }).getByRole('row').filter({ hasText: 'box' });
    await expect.poll(() => row.textContent()).toContain(sshd.fingerprint.slice(0, 15));
    await expect.poll(() => row.textContent()).toContain('succeeded');
    await screenshot(page, 'hosts');

    // Deleting asks first.
    await w.api('PUT', '/hosts/spare', { address: '127.0.0.1', port: sshd.port, username: sshd.user, key_secret: 'deploy_key' });
    await page.reload();
    await page.getByRole('button', { name: 'Delete host spare' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete host' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    await page.getByText('Host spare deleted').waitFor();
    expect(await page.getByRole('button', { name: 'Delete host spare' }).count()).toBe(0);
    expect((await w.api('GET', '/hosts/spare')).status).toBe(404);
    await context.close();
  });

  it('creates a project token and shows it once', async () => {
    const { context, page } = await w.signedIn();
    await page.getByRole('navigation').getByRole('link', { name: 'Members & tokens' }).click();

    // A user who exists but is not a member yet is added by email, then promoted.
    expect((await w.api('POST', '/users', { email: 'dev@example.com', password: 'a long dev password' })).status).toBe(201);
    await page.getByLabel('Add a member by email').fill('dev@example.com');
    await page.getByRole('button', { name: 'Add member' }).click();
    const roleOfDev = page.getByLabel('Role of dev@example.com');
    await expect.poll(() => roleOfDev.inputValue()).toBe('developer');
    await roleOfDev.selectOption('admin');
    await expect.poll(async () => (await w.api('GET', '/members')).body.members.find((m: any) => m.email === 'dev@example.com')?.role).toBe('admin');

    await page.getByLabel('Token name').first().fill('ci-deploy');
    await page.getByLabel('Role', { exact: true }).last().selectOption('developer');
    await page.getByRole('button', { name: 'Create token' }).first().click();
    const shown = page.getByRole('dialog');
    await shown.getByText('you will not see it again').waitFor();
    const token = await shown.getByLabel('Token').inputValue();
    await screenshot(page, 'token-created');
    expect(token.length).toBeGreaterThan(20);
    await shown.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('table', { name: 'Project tokens' }).getByRole('row').filter({ hasText: 'ci-deploy' }).waitFor();
    expect(await page.content()).not.toContain(token);
    await screenshot(page, 'members');
    // The token works, with its role, and nothing lists its secret.
    expect((await w.api('GET', '/jobs', undefined, { token })).status).toBe(200);
    expect(JSON.stringify((await w.api('GET', '/tokens')).body)).not.toContain(token);
    await context.close();
  });

  it('shows the workers and the audit log to an admin', async () => {
    const { context, page } = await w.signedIn();
    await page.getByRole('navigation').getByRole('link', { name: 'Workers' }).click();
    await page.getByRole('table', { name: 'Workers' }).getByText('online').waitFor();
    await screenshot(page, 'workers');

    await page.getByRole('navigation').getByRole('link', { name: 'Audit log' }).click();
    const table = page.getByRole('table', { name: 'Audit log' });
    await table.getByText('host.pin').waitFor();
    await screenshot(page, 'audit');
    await page.getByLabel('Show').selectOption('secret.');
    // Set, then replaced from a file: two entries, and nothing else.
    await expect.poll(() => table.getByRole('row').count()).toBe(3);
    expect(await table.getByText('secret.put').count()).toBe(2);
    await table.getByRole('button', { name: 'Details' }).first().click();
    await table.getByText('deploy_key').first().waitFor();

    await page.goto(`${w.url}/no/such/page`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await page.getByRole('link', { name: 'Go to the dashboard' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await context.close();
  });

  it('a viewer sees no admin controls, and no audit log in the navigation', async () => {
    const viewer = await w.createUser('viewer@example.com', 'viewer');
    const { context, page } = await w.signedIn({ email: viewer.email, password: viewer.password });
    const nav = page.getByRole('navigation');
    await nav.getByRole('link', { name: 'Hosts' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Secrets' }).count()).toBe(0);

    await nav.getByRole('link', { name: 'Hosts' }).click();
    await page.getByRole('table', { name: 'Hosts' }).getByText('box').waitFor();
    expect(await page.getByRole('button', { name: 'Add host' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^(Delete|Test|Verify)/ }).count()).toBe(0);

    await nav.getByRole('link', { name: 'Members & tokens' }).click();
    await page.getByRole('table', { name: 'Members' }).waitFor();
    expect(await page.getByLabel('Add a member by email').count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
    expect(await page.getByText('Project tokens').count()).toBe(0);
    // Their own tokens are theirs to manage.
    await page.getByText('Your personal tokens').waitFor();

    await page.goto(`${w.url}/audit`);
    await page.getByText('Only admins read the audit log').waitFor();
    await context.close();
  });
});
