import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/http-server.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';

// The CLI of part 8 end to end, as real processes against a real server: the first user via
// the setup token, login, projects, members, scoped tokens, and refusals that say why.

const BIN = fileURLToPath(new URL('../../bin/hostrun.js', import.meta.url));

let db: TestDatabase;
let server: RunningServer;
let dir: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function hostrun(args: string[], options: { stdin?: string; env?: Record<string, string | undefined> } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: {
        ...process.env,
        DATABASE_URL: undefined,
        HOSTRUN_TOKEN: undefined,
        HOSTRUN_PROJECT: undefined,
        NO_COLOR: '1',
        HOSTRUN_HOME: path.join(dir, 'home'),
        HOSTRUN_URL: server.url,
        HOSTRUN_CONFIG_DIR: path.join(dir, 'config'),
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(path.join(tmpdir(), 'hostrun-cli-auth-'));
  server = await startServer({ pool: db.pool, databaseUrl: db.url, port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => keepDatabaseOnFailure());

describe('hostrun user, login, project, member, token', () => {
  it('takes a new installation from its setup token to scoped tokens and refusals', async () => {
    expect(server.setupToken).toMatch(/^hrs_/);
    const first = await hostrun(['user', 'create', '--setup-token', server.setupToken!, '--email', 'root@example.com', '--password-stdin'], { stdin: 'a root password\n' });
    expect(first.stderr).toBe('sign in with: hostrun login --email root@example.com\n');
    expect(first).toMatchObject({ code: 0, stdout: 'user root@example.com created (superadmin)\n' });

    const wrong = await hostrun(['login', '--email', 'root@example.com', '--password-stdin'], { stdin: 'not it' });
    expect(wrong.code).toBe(5);
    const login = await hostrun(['login', '--email', 'root@example.com', '--password-stdin'], { stdin: 'a root password\n' });
    expect(login.code).toBe(0);
    expect(statSync(path.join(dir, 'config', 'credentials.json')).mode & 0o777).toBe(0o600);
    expect((await hostrun(['whoami'])).stdout).toMatch(/^root@example.com \(superadmin\)\n/);

    expect((await hostrun(['project', 'create', 'web', '--name', 'Web team'])).code).toBe(0);
    const dev = await hostrun(['user', 'create', '--email', 'dev@example.com', '--password-stdin'], { stdin: 'a dev password!' });
    expect(dev.code).toBe(0);
    expect((await hostrun(['member', 'add', 'dev@example.com', '--role', 'viewer', '--project', 'web'])).stdout).toBe('dev@example.com is viewer\n');
    const members = JSON.parse((await hostrun(['member', 'list', '--json'], { env: { HOSTRUN_PROJECT: 'web' } })).stdout);
    expect(members.map((m: { email: string; role: string }) => `${m.email}:${m.role}`)).toEqual(['dev@example.com:viewer', 'root@example.com:owner']);

    writeFileSync(path.join(dir, 'hello.yaml'), 'name: hello\nsteps:\n  - run: echo hi\n');
    expect((await hostrun(['job', 'apply', '-f', 'hello.yaml', '--project', 'web'])).code).toBe(0);

    const created = await hostrun(['token', 'create', '--project', 'web', '--role', 'viewer', '--name', 'ci', '--expires', '30d']);
    expect(created.code).toBe(0);
    const viewerToken = created.stdout.trim();
    expect(viewerToken).toMatch(/^hr_/);
    expect(created.stderr).toMatch(/viewer in project web, expires 20\d\d-/);

    // The token implies its project; a viewer may read but not run.
    const asViewer = { HOSTRUN_TOKEN: viewerToken };
    expect(JSON.parse((await hostrun(['job', 'list', '--json'], { env: asViewer })).stdout)[0].name).toBe('hello');
    const refused = await hostrun(['run', 'hello'], { env: asViewer });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toBe('error: viewer cannot run jobs in project web\n');
    const elsewhere = await hostrun(['job', 'list', '--project', 'default'], { env: asViewer });
    expect(elsewhere.code).toBe(5);
    expect(elsewhere.stderr).toBe('error: this token belongs to project web; it cannot act in project default\n');

    const tokens = JSON.parse((await hostrun(['token', 'list', '--project', 'web', '--json'])).stdout);
    const ci = tokens.find((t: { name: string }) => t.name === 'ci');
    expect(ci.hint).toBe(viewerToken.slice(-4));
    expect((await hostrun(['token', 'revoke', ci.id, '--project', 'web'])).code).toBe(0);
    expect((await hostrun(['job', 'list'], { env: asViewer })).code).toBe(5);

    expect((await hostrun(['member', 'rm', 'dev@example.com', '--project', 'web'])).stdout).toBe('dev@example.com removed\n');
    expect((await hostrun(['project', 'list'])).stdout).toMatch(/web\s+Web team\s+owner/);
    expect((await hostrun(['logout'])).code).toBe(0);
    // Signed out and no admin token in this HOSTRUN_HOME: nothing to authenticate with.
    expect((await hostrun(['whoami'])).code).toBe(5);
  });
});
