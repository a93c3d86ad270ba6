import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEMPLATES } from '../../src/core/templates.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { parseCsv } from '../reports/csv.ts';
import { insertHistory, isoDay } from '../reports/history.ts';
import { cli, json, scratch, startServer, type Result, type Scratch, type Server } from './harness.ts';

// `hostrun cron ...` and `hostrun completion` end to end against `hostrun start`: every
// built-in template created and run once on the local target (inputs pointing at temp
// directories), the job verbs, and the reports checked against a known history.

let db: TestDatabase;
let s: Scratch;
let server: Server;

beforeAll(async () => {
  db = await createTestDatabase();
  s = await scratch('hostrun-cron-');
  server = await startServer(s, db.url, { scheduler: false });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
  if (s) rmSync(s.dir, { recursive: true, force: true });
});

beforeEach(() => keepDatabaseOnFailure());

function dir(name: string): string {
  const d = path.join(s.dir, name);
  mkdirSync(d, { recursive: true });
  return d;
}

async function ok(args: string[]): Promise<Result> {
  const r = await cli(s, args);
  if (r.code !== 0) throw new Error(`hostrun ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Runs the job once (cron start --follow) and returns its output and exit code. */
async function runOnce(job: string, extra: string[] = []): Promise<Result> {
  return cli(s, ['cron', 'start', job, '--follow', ...extra], {}, 120_000);
}

describe('cron templates', () => {
  it('lists the built-in templates with their inputs', async () => {
    const r = await ok(['cron', 'templates']);
    expect(r.stdout.split('\n')[0]).toMatch(/^ID +CATEGORY +SCHEDULE +INPUTS/);
    for (const id of ['database-backup', 'log-cleanup', 'disk-monitor', 'data-sync']) expect(r.stdout).toContain(id);
    const list = json(await ok(['cron', 'templates', '--json']));
    expect(list.map((t: { id: string; schedule: string }) => [t.id, t.schedule])).toEqual([
      ['database-backup', '0 2 * * *'],
      ['log-cleanup', '0 3 * * 0'],
      ['disk-monitor', '*/15 * * * *'],
      ['data-sync', '0 1 * * *'],
    ]);
  });

  it('refuses unknown templates, unknown inputs and missing required inputs (exit 3 / 2)', async () => {
    expect((await cli(s, ['cron', 'create-from-template', 'nope'])).code).toBe(3);
    const missing = await cli(s, ['cron', 'create-from-template', 'log-cleanup']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/inputs\.directory: required: --input directory=/);
    const unknown = await cli(s, ['cron', 'create-from-template', 'log-cleanup', '--input', 'directory=/tmp', '--input', 'colour=red']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/colour: unknown input/);
    const typed = await cli(s, ['cron', 'create-from-template', 'disk-monitor', '--input', 'threshold=high']);
    expect(typed.code).toBe(2);
  });

  // Up to 3 attempts with back-off when pg_dump fails (the template retries twice).
  it('database-backup: pg_dump of the test database into a temp directory', { timeout: 180_000 }, async () => {
    const out = dir('backups');
    await ok(['cron', 'create-from-template', 'database-backup', '--input', `database=${db.url}`, '--input', `output-dir=${out}`]);
    const r = await runOnce('database-backup');
    const pgDump = spawnSync('which', ['pg_dump'], { encoding: 'utf8' }).stdout.trim();
    if (!pgDump) {
      console.log('[cron test] pg_dump is not installed: database-backup ran and failed as expected, no dump checked');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/pg_dump: command not found/);
      return;
    }
    const { rows } = await db.pool.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
    const serverMajor = Math.floor(Number(rows[0]!.v) / 10000);
    const dumpMajor = Number(/(\d+)/.exec(execFileSync(pgDump, ['--version'], { encoding: 'utf8' }))![1]);
    if (dumpMajor < serverMajor) {
      // pg_dump refuses servers newer than itself; the run must fail and say why.
      console.log(`[cron test] ${pgDump} is version ${dumpMajor}, the test server ${serverMajor}: database-backup failed as pg_dump does, no dump checked`);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/server version mismatch/);
      return;
    }
    expect(r.stderr).toMatch(/succeeded/);
    expect(r.code).toBe(0);
    const [file] = readdirSync(out);
    expect(file).toMatch(/^backup-\d{8}-\d{6}\.sql\.gz$/);
    expect(r.stdout).toContain(`wrote ${path.join(out, file!)}`);
    const dump = gunzipSync(readFileSync(path.join(out, file!))).toString('utf8');
    expect(dump).toContain('PostgreSQL database dump');
    expect(dump).toContain('CREATE TABLE hostrun.runs');
  });

  it('log-cleanup: deletes matching files older than N days, keeps the rest (and a hostile name is data)', async () => {
    const logs = dir('logs with spaces');
    const old = Date.now() / 1000 - 40 * 86400;
    for (const name of ['old.log', 'new.log', 'old.txt', '$(touch pwned).log']) writeFileSync(path.join(logs, name), 'x');
    for (const name of ['old.log', 'old.txt', '$(touch pwned).log']) utimesSync(path.join(logs, name), old, old);
    const created = await ok(['cron', 'create-from-template', 'log-cleanup', '--name', 'App Log Cleanup', '--schedule', '0 4 * * *', '--input', `directory=${logs}`]);
    expect(created.stdout).toMatch(/job app-log-cleanup created/);
    expect(created.stdout).toMatch(/schedule: At 04:00/);
    const r = await runOnce('app-log-cleanup');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(path.join(logs, 'old.log'));
    expect(readdirSync(logs).sort()).toEqual(['new.log', 'old.txt']);
    expect(existsSync(path.join(s.dir, 'pwned'))).toBe(false);
  });

  it('disk-monitor: reports filesystems over the threshold and fails the run when one is', async () => {
    await ok(['cron', 'create-from-template', 'disk-monitor', '--input', 'threshold=100']);
    const quiet = await runOnce('disk-monitor');
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toContain('no filesystem above 100%');
    // Any mounted filesystem uses more than 0%: an alert per filesystem, and the run fails.
    const alert = await runOnce('disk-monitor', ['--input', 'threshold=0']);
    expect(alert.code).toBe(1);
    expect(alert.stderr).toMatch(/ALERT \/\S* is \d+% full/);
    expect(alert.stdout).toMatch(/\d+ filesystem\(s\) above 0%/);
  });

  it('data-sync: rsync of a directory into another', async () => {
    const src = dir('data');
    writeFileSync(path.join(src, 'a.txt'), 'alpha');
    mkdirSync(path.join(src, 'nested dir'));
    writeFileSync(path.join(src, 'nested dir', 'b.txt'), 'beta');
    const dest = path.join(s.dir, 'mirror');
    await ok(['cron', 'create-from-template', 'data-sync', '--input', `source=${src}`, '--input', `destination=${dest}`, '--working-dir', s.dir]);
    const r = await runOnce('data-sync');
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('alpha');
    expect(readFileSync(path.join(dest, 'nested dir', 'b.txt'), 'utf8')).toBe('beta');
    expect(r.stdout).toMatch(/a\.txt/); // --itemize-changes lists what it copied
  });

  it('every built-in template was created and run', async () => {
    const runs = json(await ok(['runs', '--limit', '100', '--json'])).runs as { job_name: string }[];
    const ran = new Set(runs.map((r) => r.job_name));
    for (const t of TEMPLATES) expect([...ran].some((name) => name === t.id || (t.id === 'log-cleanup' && name === 'app-log-cleanup'))).toBe(true);
  });
});

describe('cron job verbs', () => {
  it('list shows only scheduled jobs; info; stop; remove', async () => {
    writeFileSync(path.join(s.dir, 'adhoc.yaml'), 'name: adhoc\nsteps:\n  - run: sleep 30\n');
    await ok(['job', 'apply', '-f', 'adhoc.yaml']);
    const list = json(await ok(['cron', 'list', '--json'])) as { name: string; schedules: string[] }[];
    expect(list.map((j) => j.name)).toEqual(['app-log-cleanup', 'data-sync', 'database-backup', 'disk-monitor']);
    expect(list[0]!.schedules).toEqual([expect.stringMatching(/At 04:00/)]);
    expect(json(await ok(['daemon', 'job', 'list', '--json'])).map((j: { name: string }) => j.name)).toContain('adhoc');

    const info = await ok(['cron', 'info', 'disk-monitor']);
    expect(info.stdout).toMatch(/name +disk-monitor/);
    expect(info.stdout).toMatch(/runs +2 \(1 succeeded, 1 failed, 0 canceled\)/);

    const started = json(await ok(['cron', 'start', 'adhoc', '--json']));
    expect((await ok(['cron', 'stop', 'adhoc'])).stdout).toMatch(/canceled 1 run of adhoc/);
    expect((await cli(s, ['logs', String(started.id), '-f'], {}, 20_000)).code).toBe(0);

    await ok(['cron', 'remove', 'disk-monitor']);
    expect((await cli(s, ['cron', 'info', 'disk-monitor'])).code).toBe(3); // the job is gone...
    expect(json(await ok(['cron', 'report', 'disk-monitor', '--json'])).summary.runs).toBe(2); // ...its history is not
  });
});

describe('cron reports', () => {
  let ids: number[];
  beforeAll(async () => {
    ids = await insertHistory(db.pool);
  });

  it('report <job>: the figures of the known history, as JSON and as text', async () => {
    const r = json(await ok(['cron', 'report', 'etl', '--json']));
    expect(r.summary).toMatchObject({ runs: 7, succeeded: 4, failed: 2, canceled: 1 });
    expect(r.summary.p50_ms).toBeCloseTo(3500, 6);
    expect(r.summary.p95_ms).toBeCloseTo(8750, 6);
    expect(r.timezone).toBe('UTC');
    expect(r.trend.map((d: { day: string; runs: number }) => [d.day, d.runs])).toEqual([[isoDay(0), 3], [isoDay(1), 2], [isoDay(2), 2]]);

    const text = await ok(['cron', 'report', 'etl']);
    expect(text.stdout).toMatch(/runs +7 \(4 succeeded, 2 failed, 1 canceled\)/);
    expect(text.stdout).toMatch(/success rate +66\.7%/);
    expect(text.stdout).toMatch(/duration +avg 4\.2s, p50 3\.5s, p95 8\.8s/);
    expect(text.stdout).toMatch(new RegExp(`${ids[2]} .*failed +2 +step 1 \\(etl\\) failed with exit code 2 +boom: disk full`));
    expect(text.stdout).toMatch(new RegExp(`${isoDay(1)} +2 +1 +1 +50\\.0% +7\\.0s +9\\.7s +#x`));
  });

  it('reports: one line per job', async () => {
    const jobs = json(await ok(['cron', 'reports', '--json'])) as { job_name: string; runs: number; failed: number }[];
    expect(jobs.find((j) => j.job_name === 'etl')).toMatchObject({ runs: 7, failed: 2 });
    expect(jobs.find((j) => j.job_name === 'sync')).toMatchObject({ runs: 2, failed: 2 });
    const text = await ok(['cron', 'reports']);
    expect(text.stdout.split('\n')[0]).toMatch(/^JOB +RUNS +OK +FAILED +SUCCESS +AVG +P50 +P95 +LAST RUN/);
    expect(text.stdout).toMatch(/^etl +7 +4 +2 +66\.7% +4\.2s +3\.5s +8\.8s +canceled/m);
    expect(text.stdout).toMatch(/^disk-monitor \(deleted\) +2/m);
  });

  it('comprehensive-report: busiest and failing jobs, failure causes, failing hosts, queue wait', async () => {
    const r = json(await ok(['cron', 'comprehensive-report', '--json', '--limit', '10']));
    expect(r.busiest_jobs[0]).toMatchObject({ job_name: 'etl', runs: 7 });
    expect(r.failure_causes).toContainEqual(expect.objectContaining({ error: 'worker lost: lease expired on attempt 1', runs: 2, jobs: ['sync'] }));
    // The templates' failed runs above (pg_dump, disk-monitor) share one cause: grouped, both jobs named.
    const exit1 = r.failure_causes.find((c: { error: string }) => c.error === 'step 1 (command) failed with exit code 1');
    if (exit1) expect(exit1.jobs).toContain('disk-monitor');
    expect(r.failing_targets).toContainEqual(expect.objectContaining({ target: 'db-host', runs: 2, failed: 2, failure_rate: 1 }));
    expect(r.queue_wait.runs).toBeGreaterThanOrEqual(9);
    const text = await ok(['cron', 'comprehensive-report']);
    for (const heading of ['busiest jobs', 'most failing jobs', 'failure causes', 'hosts with the most failures']) expect(text.stdout).toContain(heading);
    expect(text.stdout).toMatch(/queue wait +avg \S+, p50 \S+, p95 \S+, max \S+ \(\d+ runs\)/);
    expect(text.stdout).toMatch(/^2 +.* ago +sync +worker lost: lease expired on attempt 1$/m);
    expect(text.stdout).toMatch(/^db-host +2 +2 +100\.0%$/m);
  });

  it('export --format json|csv [--since]: parsed back, the same runs', async () => {
    const asJson = json(await ok(['cron', 'export', '--format', 'json', '--job', 'etl'])) as { id: number; duration_ms: number | null; error: string | null }[];
    expect(asJson.map((r) => r.id)).toEqual(ids.slice(0, 7));
    const csv = await ok(['cron', 'export', '--format', 'csv', '--job', 'etl']);
    const [header, ...rows] = parseCsv(csv.stdout);
    expect(header!.slice(0, 4)).toEqual(['id', 'job_name', 'job_version', 'status']);
    expect(rows.map((r) => Number(r[0]))).toEqual(ids.slice(0, 7));
    const col = (name: string) => header!.indexOf(name);
    expect(rows.map((r) => r[col('duration_ms')])).toEqual(asJson.map((r) => (r.duration_ms === null ? '' : String(r.duration_ms))));
    expect(rows[2]![col('error')]).toBe('step 1 (etl) failed with exit code 2');

    // The run 40 days ago appears only with an earlier --since.
    const recent = json(await ok(['cron', 'export', '--format', 'json', '--job', 'old'])) as unknown[];
    expect(recent).toHaveLength(0);
    const since = new Date(Date.now() - 60 * 86_400_000).toISOString().slice(0, 10);
    expect(json(await ok(['cron', 'export', '--format', 'json', '--job', 'old', '--since', since]))).toHaveLength(1);

    const file = path.join(s.dir, 'runs.csv');
    const written = await ok(['cron', 'export', '--format', 'csv', '--output', file, '--limit', '2']);
    expect(written.stderr).toMatch(/cut short/);
    expect(parseCsv(readFileSync(file, 'utf8'))).toHaveLength(3);
    expect((await cli(s, ['cron', 'export', '--format', 'xml'])).code).toBe(2);
    expect((await cli(s, ['cron', 'export', '--since', 'last tuesday'])).code).toBe(2);
  });
});

describe('terminal output', () => {
  it('--help documents the exit codes, daemon status included', async () => {
    const r = await ok(['--help']);
    expect(r.stdout).toMatch(/Exit codes:/);
    expect(r.stdout).toMatch(/daemon status: 0 running .*3 not running/);
    expect(r.stdout).toMatch(/NO_COLOR/);
  });

  it('no colour when not on a terminal, even without NO_COLOR', async () => {
    const r = await cli(s, ['cron', 'reports'], { NO_COLOR: undefined });
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('completion bash: valid bash that completes commands and nested subcommands', async () => {
    const script = (await ok(['completion', 'bash'])).stdout;
    const file = path.join(s.dir, 'hostrun.bash');
    writeFileSync(file, script);
    expect(spawnSync('bash', ['-n', file]).status).toBe(0);
    const complete = (words: string[]) =>
      execFileSync('bash', ['-c', `source "$0"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _hostrun; printf '%s\\n' "\${COMPREPLY[@]}"`, file], { encoding: 'utf8' })
        .trim()
        .split('\n');
    expect(complete(['hostrun', 'cr'])).toEqual(['cron']);
    expect(complete(['hostrun', 'cron', 'create'])).toEqual(['create-from-template']);
    expect(complete(['hostrun', 'daemon', 'job', 'create', '--max'])).toEqual(['--max-retries']);
    expect(complete(['hostrun', 'daemon', ''])).toEqual(expect.arrayContaining(['start', 'stop', 'restart', 'status', 'job', 'db']));
  });

  it('completion zsh and fish', async () => {
    const zsh = (await ok(['completion', 'zsh'])).stdout;
    expect(zsh).toMatch(/^#compdef hostrun/);
    expect(zsh).toContain('bashcompinit');
    const fish = (await ok(['completion', 'fish'])).stdout;
    expect(fish).toMatch(/complete -c hostrun -n '__fish_use_subcommand' -a '.*\bdaemon\b.*\bcron\b/);
    expect(fish).toMatch(/__fish_seen_subcommand_from cron.* -a '.*create-from-template/);
    expect((await cli(s, ['completion', 'tcsh'])).code).toBe(2);
  });
});
