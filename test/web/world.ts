import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { browserUnavailable, launchBrowser, newContext } from '../support/browser.ts';
import { scratch, startServer, type Scratch, type Server } from '../cli/harness.ts';

// What every browser test file starts from: its own database, `hostrun start` as a real
// process serving the built UI on a free port (schedules not fired: the real clock would add
// runs mid-test), a Chromium, the first user (a superadmin) created through the setup token
// the server printed, and API access with the admin token for arranging data.

export const ADMIN = { email: 'root@example.com', password: 'a long root password' };
export const PASSWORD = 'a long user password';

export interface UiWorld {
  db: TestDatabase;
  s: Scratch;
  server: Server;
  url: string;
  browser: Browser;
  /** The superadmin API token `hostrun start` wrote to HOSTRUN_HOME. */
  adminToken: string;
  /** The setup token from the start banner (already used unless `firstUser: false`). */
  setupToken: string;
  /** An API call as the admin token (or `token`), in `project` (default `default`). */
  api<T = any>(method: string, path: string, body?: unknown, opts?: { token?: string; project?: string }): Promise<{ status: number; body: T }>;
  /** A user with a password, a member of `project` with `role`. */
  createUser(email: string, role: 'viewer' | 'developer' | 'admin' | 'owner', project?: string): Promise<{ id: string; email: string; password: string }>;
  /** A new browser profile signed in as `email` (the admin by default), on the dashboard. */
  signedIn(opts?: { email?: string; password?: string; phone?: boolean; dark?: boolean }): Promise<{ context: BrowserContext; page: Page }>;
  stop(): Promise<void>;
}

/**
 * Why the browser tests cannot run on this machine (printed once), or null. Test files wrap
 * their suites in `describe.skipIf(BROWSER_UNAVAILABLE)`; CI requires a browser instead.
 */
export const BROWSER_UNAVAILABLE = browserUnavailable();

export async function startUiWorld(opts: { firstUser?: boolean } = {}): Promise<UiWorld> {
  const db = await createTestDatabase();
  const s = await scratch('hostrun-web-');
  let server: Server | undefined;
  let browser: Browser | undefined;
  try {
    server = await startServer(s, db.url, { scheduler: false });
    browser = await launchBrowser();
    const setupToken = /setup\?token=(hrs_[A-Za-z0-9_-]+)/.exec(server.output())?.[1];
    if (!setupToken) throw new Error(`no setup link in the start banner:\n${server.output()}`);
    const adminToken = readFileSync(path.join(s.home, 'admin-token'), 'utf8').trim();
    const url = s.url;

    const api: UiWorld['api'] = async (method, p, body, o = {}) => {
      const res = await fetch(`${url}/api/v1${p}`, {
        method,
        headers: {
          authorization: `Bearer ${o.token ?? adminToken}`,
          'x-hostrun-project': o.project ?? 'default',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      let parsed: any = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON (a log download): the text as it is
      }
      return { status: res.status, body: parsed };
    };

    if (opts.firstUser !== false) {
      const r = await api('POST', '/setup', { setup_token: setupToken, email: ADMIN.email, password: ADMIN.password, name: 'Root' });
      if (r.status !== 201) throw new Error(`setup failed: ${r.status} ${JSON.stringify(r.body)}`);
    }

    const world: UiWorld = {
      db,
      s,
      server,
      url,
      browser,
      adminToken,
      setupToken,
      api,
      async createUser(email, role, project = 'default') {
        const u = await api('POST', '/users', { email, password: PASSWORD });
        if (u.status !== 201) throw new Error(`user create: ${u.status} ${JSON.stringify(u.body)}`);
        const id = u.body.user?.id ?? u.body.id;
        const m = await api('POST', '/members', { user: email, role }, { project });
        if (m.status >= 300) throw new Error(`member add: ${m.status} ${JSON.stringify(m.body)}`);
        return { id, email, password: PASSWORD };
      },
      async signedIn(o = {}) {
        const context = await newContext(browser!, { phone: o.phone, dark: o.dark });
        const page = await context.newPage();
        await page.goto(url + '/');
        await page.getByLabel('Email').fill(o.email ?? ADMIN.email);
        await page.getByLabel('Password').fill(o.password ?? ADMIN.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        // The page frame (on a phone the navigation is folded into a menu).
        await page.getByRole('main').waitFor();
        return { context, page };
      },
      async stop() {
        await browser?.close().catch(() => {});
        // world.server, not the first one: a test may have stopped it and started another.
        await world.server.stop();
        await db.drop();
        rmSync(s.dir, { recursive: true, force: true });
      },
    };
    return world;
  } catch (err) {
    await browser?.close().catch(() => {});
    await server?.stop();
    await db.drop();
    rmSync(s.dir, { recursive: true, force: true });
    throw err;
  }
}
