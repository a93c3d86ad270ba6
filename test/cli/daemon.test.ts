import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { cli, json, scratch, type Scratch } from './harness.ts';

// `hostrun daemon ...` end to end: a real background `hostrun start` (pid and log file in
// HOSTRUN_HOME) against this file's database, and the job and history commands against it.

let db: TestDatabase;
let s: Scratch;
let env: Record<string, string>;
let daemonPid: number | undefined;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return false;
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  s = await scratch('hostrun-daemon-');
  // The daemon inherits the CLI's environment: its database and port come from there.
  env = { DATABASE_URL: db.url, HOSTRUN_PORT: String(s.port), LOG_LEVEL: 'warn', HOSTRUN_WORKER_CONCURRENCY: '2' };
});

afterAll(async () => {
  // Whatever happened above, leave no daemon behind.
  if (daemonPid !== undefined && alive(daemonPid)) {
    try {
      process.kill(-daemonPid, 'SIGKILL');
    } catch {
      process.kill(daemonPid, 'SIGKILL');
    }
  }
  await db?.drop();
  if (s) rmSync(s.dir, { recursive: true, force: true });
});

beforeEach(() => keepDatabaseOnFailure());

describe('hostrun daemon', () => {
  it('status says "not running" with exit 3 before anything started', async () => {
    const r = await cli(s, ['daemon', 'status'], env);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/daemon\s+not running/);
    expect(json(await cli(s, ['daemon', 'status', '--json'], env))).toMatchObject({ running: false, server: null });
  });

  it('start runs hostrun start in the background, in its own session, with pid and log file in HOSTRUN_HOME', async () => {
    const r = await cli(s, ['daemon', 'start'], env, 120_000);
    expect(r.stderr).toContain(path.join(s.home, 'daemon.log'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Hostrun daemon started \\(pid \\d+\\) at ${s.url}`));
    const record = JSON.parse(readFileSync(path.join(s.home, 'daemon.pid'), 'utf8')) as { pid: number; url: string };
    daemonPid = record.pid;
    expect(record.url).toBe(s.url);
    // The CLI that started it has exited; the daemon lives on, leading its own session, so a
    // terminal closing (SIGHUP to the terminal's session) never reaches it.
    expect(alive(record.pid)).toBe(true);
    const stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    expect(Number(stat[3])).toBe(record.pid); // session id (field 6) = its own pid
    expect((await fetch(`${s.url}/readyz`)).ok).toBe(true);
  });

  it('refuses a second start', async () => {
    const r = await cli(s, ['daemon', 'start'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`error: the Hostrun daemon is already running \\(pid ${daemonPid}`));
  });

  it('status: running, pid, uptime, version, database, workers, queue', async () => {
    const st = json(await cli(s, ['daemon', 'status', '--json'], env));
    expect(st).toMatchObject({ running: true, pid: daemonPid, url: s.url, log_file: path.join(s.home, 'daemon.log') });
    expect(st.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(st.server.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(st.server.database.name).toBe(new URL(db.url).pathname.slice(1));
    expect(st.server.workers).toHaveLength(1);
    expect(st.server.workers[0]).toMatchObject({ pid: daemonPid, concurrency: 2 });
    expect(st.server).toMatchObject({ queued: 0, running: 0 });
    const text = await cli(s, ['daemon', 'status'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`daemon +running \\(pid ${daemonPid}, up \\d+s\\)`));
    expect(text.stdout).toMatch(/workers +1 alive, 2 slots/);
    expect(text.stdout).toMatch(/queue +0 queued, 0 running/);
  });

  describe('daemon job', () => {
    it('create: a one-step job with schedule, env, working dir, priority, timeout and retries', async () => {
      const r = await cli(s, [
        'daemon', 'job', 'create', '--name', 'Daily Backup', '--command', 'echo "backup of $TARGET in $(pwd)"',
        '--schedule', '0 2 * * *', '--timezone', 'Europe/Berlin', '--working-dir', s.dir, '--priority', '8',
        '--env', 'TARGET=/srv/data', '--timeout', '90s', '--max-retries', '2',
      ], env);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/job daily-backup created \(version 1\)/);
      expect(r.stdout).toMatch(/schedule: .*02:00.*Europe\/Berlin/);

      const info = json(await cli(s, ['daemon', 'job', 'info', 'daily-backup', '--json'], env));
      expect(info.job.description).toBe('Daily Backup');
      expect(info.job.spec).toMatchObject({
        priority: 8,
        timeoutMinutes: 1.5,
        retries: { max: 2 },
        env: { TARGET: '/srv/data' },
        workingDirectory: s.dir,
        runsOn: { kind: 'local' },
      });
      expect(info.job.spec.steps).toHaveLength(1);
      expect(info.job.schedules).toEqual([expect.objectContaining({ cron: '0 2 * * *', timezone: 'Europe/Berlin', enabled: true })]);
      expect(info.job.source).toMatch(/^name: daily-backup$/m); // stored as readable YAML

      const again = await cli(s, ['daemon', 'job', 'create', '--name', 'daily-backup', '--command', 'true'], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already exists/);
    });

    it('create: bad flags are usage errors (exit 2)', async () => {
      expect((await cli(s, ['daemon', 'job', 'create', '--name', 'x', '--command', 'true', '--priority', '11'], env)).code).toBe(2);
      expect((await cli(s, ['daemon', 'job', 'create', '--name', 'x', '--command', 'true', '--timeout', '5'], env)).stderr).toMatch(/duration such as 90s/);
      expect((await cli(s, ['daemon', 'job', 'create', '--name', 'x', '--command', 'true', '--env', 'NOEQUALS'], env)).code).toBe(2);
      const cron = await cli(s, ['daemon', 'job', 'create', '--name', 'x', '--command', 'true', '--schedule', 'every day'], env);
      expect(cron.code).toBe(2);
      expect(cron.stderr).toMatch(/cron/);
      expect((await cli(s, ['daemon', 'job', 'create', '--name', 'x'], env)).code).toBe(2); // --command missing
    });

    it('list, start (run now, by name or id), db history and stats', async () => {
      const list = json(await cli(s, ['daemon', 'job', 'list', '--json'], env));
      expect(list.map((j: { name: string }) => j.name)).toEqual(['daily-backup']);
      const id = list[0].id as string;

      const run = await cli(s, ['daemon', 'job', 'start', id, '--wait'], env);
      expect(run.stderr).toMatch(/succeeded/);
      expect(run.code).toBe(0);
      const follow = await cli(s, ['daemon', 'job', 'start', 'daily-backup', '--follow'], env);
      expect(follow.stdout).toContain(`backup of /srv/data in ${s.dir}`);

      const history = json(await cli(s, ['daemon', 'db', 'history', '--job-id', id, '--limit', '5', '--json'], env));
      expect(history).toHaveLength(2);
      expect(history.every((r: { status: string; trigger: string }) => r.status === 'succeeded' && r.trigger === 'manual')).toBe(true);
      const table = await cli(s, ['daemon', 'db', 'history'], env);
      expect(table.stdout.split('\n')[0]).toMatch(/^ID +JOB +STATUS +TRIGGER +TARGET/);

      const stats = json(await cli(s, ['daemon', 'db', 'stats', '--job-id', 'daily-backup', '--json'], env));
      expect(stats).toMatchObject({ runs: 2, succeeded: 2, failed: 0, success_rate: 1 });
      const all = json(await cli(s, ['daemon', 'db', 'stats', '--json'], env));
      expect(all).toEqual([expect.objectContaining({ job_name: 'daily-backup', runs: 2 })]);
      const text = await cli(s, ['daemon', 'db', 'stats', '--job-id', 'daily-backup'], env);
      expect(text.stdout).toMatch(/success rate +100\.0%/);
    });

    it('stop cancels the queued and running runs of a job', async () => {
      expect((await cli(s, ['daemon', 'job', 'create', '--name', 'sleeper', '--command', 'sleep 30'], env)).code).toBe(0);
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(json(await cli(s, ['daemon', 'job', 'start', 'sleeper', '--json'], env)).id as number);
      const stop = await cli(s, ['daemon', 'job', 'stop', 'sleeper'], env);
      expect(stop.code).toBe(0);
      expect(stop.stdout).toMatch(/canceled 3 runs of sleeper/);
      // Each run ends as canceled, long before its 30 s sleep.
      for (const id of ids) {
        const r = await cli(s, ['logs', String(id), '-f'], env, 20_000);
        expect(r.code).toBe(0);
        expect(json(await cli(s, ['show-run', String(id), '--json'], env)).status).toBe('canceled');
      }
      expect((await cli(s, ['daemon', 'job', 'stop', 'sleeper'], env)).stdout).toMatch(/no queued or running runs/);
    });

    it('remove deletes the job; unknown jobs are exit 3', async () => {
      const r = await cli(s, ['daemon', 'job', 'remove', 'sleeper'], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/job sleeper removed/);
      expect((await cli(s, ['daemon', 'job', 'info', 'sleeper'], env)).code).toBe(3);
      expect((await cli(s, ['daemon', 'job', 'start', '00000000-0000-0000-0000-000000000000'], env)).code).toBe(3);
    });
  });

  it('restart starts a new process with the same options', async () => {
    const r = await cli(s, ['daemon', 'restart', '--json'], env, 120_000);
    expect(r.code).toBe(0);
    const record = json(r);
    expect(record.pid).not.toBe(daemonPid);
    expect(alive(daemonPid!)).toBe(false);
    daemonPid = record.pid;
    expect(json(await cli(s, ['daemon', 'status', '--json'], env))).toMatchObject({ running: true, pid: daemonPid });
  });

  it('stop ends it gracefully and removes the pid file; status then says not running', async () => {
    const r = await cli(s, ['daemon', 'stop'], env, 90_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Hostrun daemon stopped \\(pid ${daemonPid}\\)`));
    expect(alive(daemonPid!)).toBe(false);
    expect(existsSync(path.join(s.home, 'daemon.pid'))).toBe(false);
    // Stopped cleanly: the log says so and no worker is left registered as alive.
    expect(readFileSync(path.join(s.home, 'daemon.log'), 'utf8')).not.toMatch(/"level":(50|60)/);
    expect((await cli(s, ['daemon', 'status'], env)).code).toBe(3);
    expect((await cli(s, ['daemon', 'stop'], env)).stderr).toMatch(/not running/);
  });

  it('stop --timeout kills a daemon that does not finish in time (a run holds it in its grace period)', async () => {
    daemonPid = json(await cli(s, ['daemon', 'start', '--json'], env, 120_000)).pid as number;
    expect((await cli(s, ['daemon', 'job', 'create', '--name', 'holder', '--command', 'sleep 20'], env)).code).toBe(0);
    const run = json(await cli(s, ['daemon', 'job', 'start', 'holder', '--json'], env));
    // Wait until the run is running: only then does the worker's 30 s grace hold the stop up.
    for (let i = 0; i < 100 && json(await cli(s, ['show-run', String(run.id), '--json'], env)).status !== 'running'; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await cli(s, ['daemon', 'stop', '--timeout', '2'], env, 60_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`did not stop within 2s: killed \\(pid ${daemonPid}\\)`));
    expect(alive(daemonPid)).toBe(false);
    expect(existsSync(path.join(s.home, 'daemon.pid'))).toBe(false);
  });
});
