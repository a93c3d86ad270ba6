import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { cli as cliIn, scratch, startServer, type Result, type Scratch, type Server } from './harness.ts';

// End to end: `hostrun start` as a real process (server + scheduler + worker) against this
// file's own database, and the CLI as real processes talking to it over HTTP.

let db: TestDatabase;
let s: Scratch;
let server: Server;

function cli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 30_000): Promise<Result> {
  return cliIn(s, args, env, timeoutMs);
}

function expectOneLineError(r: Result, pattern: RegExp): void {
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.stderr.trim().split('\n')[0]).toMatch(/^error: /);
}

function write(name: string, text: string): string {
  const file = path.join(s.dir, name);
  writeFileSync(file, text);
  return file;
}

beforeAll(async () => {
  db = await createTestDatabase();
  s = await scratch('hostrun-cli-');
  server = await startServer(s, db.url);
  copyFileSync(new URL('../server/fixtures/hello.yaml', import.meta.url), path.join(s.dir, 'hello.yaml'));
});

afterAll(async () => {
  server?.process.kill('SIGKILL');
  await db?.drop();
  if (s) rmSync(s.dir, { recursive: true, force: true });
});

beforeEach(() => keepDatabaseOnFailure());

describe('hostrun CLI against hostrun start', () => {
  it('prints the exit codes in --help', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit codes:/);
    expect(r.stdout).toMatch(/4 +the server cannot be reached/);
  });

  it('writes the admin token the CLI picks up on its own', async () => {
    expect(server.output()).toContain(`Hostrun is running at ${s.url}`);
    expect(server.output()).toContain(path.join(s.home, 'admin-token'));
  });

  it('applies hello.yaml and runs it, following the output live', async () => {
    const apply = await cli(['job', 'apply', '-f', 'hello.yaml']);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/job hello created \(version 1\)/);
    expect((await cli(['job', 'apply', '-f', 'hello.yaml'])).stdout).toMatch(/unchanged/);

    const run = await cli(['run', 'hello', '--input', 'name=Ada', '--follow']);
    expect(run.stdout).toContain('hello, Ada');
    expect(run.stderr).toMatch(/succeeded/);
    expect(run.code).toBe(0);
  });

  it("exits with the run's exit code, with --follow and with --wait", async () => {
    const file = write('fail.yaml', 'name: fail\nsteps:\n  - run: exit 3\n');
    expect((await cli(['job', 'apply', '-f', file])).code).toBe(0);
    const follow = await cli(['run', 'fail', '--follow']);
    expect(follow.stderr).toMatch(/failed/);
    expect(follow.code).toBe(3);
    const wait = await cli(['run', 'fail', '--wait']);
    expect(wait.stdout).toBe('');
    expect(wait.code).toBe(3);
  });

  it('lists runs (newest first), jobs and schedules as JSON', async () => {
    const r = await cli(['runs', '--json']);
    expect(r.code).toBe(0);
    const page = JSON.parse(r.stdout) as { runs: { id: number; job_name: string; status: string }[]; next_cursor: string | null };
    expect(page.runs.length).toBeGreaterThanOrEqual(3);
    const ids = page.runs.map((x) => x.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(page.runs.find((x) => x.job_name === 'hello')?.status).toBe('succeeded');

    const filtered = JSON.parse((await cli(['runs', '--job', 'fail', '--status', 'failed', '--limit', '1', '--json'])).stdout);
    expect(filtered.runs).toHaveLength(1);
    expect(filtered.next_cursor).toEqual(expect.any(String));

    const jobs = JSON.parse((await cli(['job', 'list', '--json'])).stdout) as { name: string }[];
    expect(jobs.map((j) => j.name)).toEqual(['fail', 'hello']);
    expect(JSON.parse((await cli(['schedules', '--json'])).stdout)).toEqual([]);

    const table = await cli(['runs']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +JOB +STATUS/);
  });

  it('prints the logs of a finished run', async () => {
    const runs = JSON.parse((await cli(['runs', '--job', 'hello', '--json'])).stdout) as { runs: { id: number }[] };
    const id = String(runs.runs[0]!.id);
    const logs = await cli(['logs', id]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('hello, Ada');
    const follow = await cli(['logs', id, '-f']);
    expect(follow.stdout).toContain('hello, Ada');
    expect(follow.code).toBe(0);
  });

  it('cancels a running run', async () => {
    const file = write('sleeper.yaml', 'name: sleeper\nsteps:\n  - run: sleep 30\n');
    expect((await cli(['job', 'apply', '-f', file])).code).toBe(0);
    const started = JSON.parse((await cli(['run', 'sleeper', '--json'])).stdout) as { id: number };
    const cancel = await cli(['cancel', String(started.id)]);
    expect(cancel.code).toBe(0);
    // Canceled while queued or running: following its log returns once it has ended, well
    // before the step's 30 s sleep would have.
    const follow = await cli(['logs', String(started.id), '-f'], {}, 20_000);
    expect(follow.code).toBe(0);
    const after = JSON.parse((await cli(['show-run', String(started.id), '--json'])).stdout) as { status: string };
    expect(after.status).toBe('canceled');
  });

  describe('errors: one line, a distinct exit code, no stack trace', () => {
    it('server not reachable -> exit 4 and how to start it', async () => {
      const closed = await freePort();
      const r = await cli(['runs'], { HOSTRUN_URL: `http://127.0.0.1:${closed}` });
      expect(r.code).toBe(4);
      expectOneLineError(r, /cannot reach the Hostrun server at http:\/\/127\.0\.0\.1:\d+: start it with `npm start`/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('unknown job -> exit 3', async () => {
      const r = await cli(['run', 'no-such-job']);
      expect(r.code).toBe(3);
      expectOneLineError(r, /job "no-such-job" not found/);
      expect((await cli(['job', 'show', 'no-such-job'])).code).toBe(3);
    });

    it('invalid YAML -> exit 2 with line and column', async () => {
      const file = write('bad.yaml', 'name: bad\nsteps:\n  - run: [unclosed\n');
      const r = await cli(['job', 'apply', '-f', file]);
      expect(r.code).toBe(2);
      expectOneLineError(r, /bad\.yaml/);
      expect(r.stderr).toMatch(/line \d+, column \d+/);
    });

    it('invalid input -> exit 2 with the input named', async () => {
      const file = write('strict.yaml', "name: strict\ninputs:\n  ip:\n    required: true\n    pattern: '^[0-9.]+$'\nsteps:\n  - run: echo hi\n");
      expect((await cli(['job', 'apply', '-f', file])).code).toBe(0);
      const r = await cli(['run', 'strict', '--input', 'ip=not-an-ip']);
      expect(r.code).toBe(2);
      expectOneLineError(r, /ip/);
      const malformed = await cli(['run', 'strict', '--input', 'no-equals-sign']);
      expect(malformed.code).toBe(2);
      expectOneLineError(malformed, /./);
    });

    it('missing token -> exit 5', async () => {
      const r = await cli(['runs'], { HOSTRUN_HOME: path.join(s.dir, 'elsewhere') });
      expect(r.code).toBe(5);
      expectOneLineError(r, /token/);
    });

    it('usage errors -> exit 2', async () => {
      expect((await cli(['runs', '--limit', 'many'])).code).toBe(2);
      expect((await cli(['job', 'apply'])).code).toBe(2);
      expect((await cli(['frobnicate'])).code).toBe(2);
    });
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => server.process.once('exit', (code) => resolve(code)));
    server.process.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
