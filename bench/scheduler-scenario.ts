// Scenario D: many schedules due at the same instant, two scheduler instances (separate
// processes) racing for them. Lateness = when the run became visible (the commit time of the
// transaction that inserted it, with track_commit_timestamp on, as on the bench's embedded
// server) - its fire_at, both the database's clock. Without commit times it falls back to
// created_at - fire_at, the inserting transaction's start: that hides the time a pass takes,
// the larger the pass the more. Duplicates = more than one run per (schedule, fire time).
// Hostrun only: see BENCHMARKS.md.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPool } from '../src/db/pool.ts';
import { migrate } from '../src/db/migrate.ts';
import { nextFireTime } from '../src/core/cron.ts';
import { recreateDatabase } from './bench-db.ts';
import { hostrunRequests } from './systems.ts';
import { quantile } from './report.ts';

export interface SchedulerResult {
  schedules: number;
  cron: string;
  instances: number;
  fireTimes: number;
  fires: number;
  expected: number;
  duplicates: number;
  p50: number;
  p99: number;
  max: number;
  cpuSecondsPerMinute: number;
  /** What lateness ends at: 'commit' (the run became visible) or 'created_at' (its transaction began). */
  measuredTo: 'commit' | 'created_at';
}

const ENTRY = fileURLToPath(new URL('./scheduler-process.ts', import.meta.url));

export async function schedulerScenario(
  serverUrl: string,
  _home: string,
  o: { schedules: number; cron: string; measureMs: number; instances?: number },
): Promise<SchedulerResult> {
  const instances = o.instances ?? 2;
  const url = await recreateDatabase(serverUrl, 'bench_hostrun_scheduler');
  const pool = createPool(url, { max: 4 });
  try {
    await migrate(pool);
    const { noop } = await hostrunRequests(pool);
    // The first fire time at least 5 s away, so both instances are up before it.
    const first = nextFireTime({ cron: o.cron, timezone: 'UTC', anchorAt: new Date() }, new Date(Date.now() + 5000))!;
    await pool.query(
      `INSERT INTO hostrun.schedules (project_id, job_id, cron, timezone, next_fire_at)
       SELECT $1, $2, $3, 'UTC', $4 FROM generate_series(1, $5)`,
      [noop.projectId, noop.job.id, o.cron, first, o.schedules],
    );
    await pool.query('VACUUM ANALYZE hostrun.schedules');
    const children = Array.from({ length: instances }, () =>
      fork(ENTRY, [], { execArgv: ['--import', 'tsx', ...profileArgs()], env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    await Promise.all(children.map((c) => new Promise<void>((resolve, reject) => {
      c.once('message', () => resolve());
      c.once('exit', (code) => reject(new Error(`scheduler exited with ${code}`)));
    })));
    const began = Date.now();
    const stopAt = first.getTime() + o.measureMs;
    await sleep(Math.max(0, stopAt - Date.now()));
    const cpu = await Promise.all(children.map((c) => new Promise<number>((resolve) => {
      const t = setTimeout(() => { c.kill('SIGKILL'); resolve(NaN); }, 30_000);
      c.on('message', (m: { type: string; seconds: number }) => {
        if (m.type === 'cpu') { clearTimeout(t); resolve(m.seconds); }
      });
      c.send({ type: 'stop' });
    })));
    const elapsedMin = (Date.now() - began) / 60_000;
    // Fire times whose runs had at least 5 s to be created before the schedulers stopped.
    const { rows: times } = await pool.query<{ fire_at: Date }>(
      `SELECT DISTINCT fire_at FROM hostrun.runs WHERE fire_at <= $1 ORDER BY fire_at`, [new Date(stopAt - 5000)]);
    const fireTimes = times.map((t) => t.fire_at);
    const { rows: setting } = await pool.query<{ on: boolean }>(`SELECT current_setting('track_commit_timestamp')::boolean AS on`);
    const measuredTo = setting[0]!.on ? 'commit' : 'created_at';
    const visibleAt = measuredTo === 'commit' ? 'pg_xact_commit_timestamp(xmin)' : 'created_at';
    // The runs are as inserted (the scenario starts no worker), so xmin is the inserting transaction.
    const { rows } = await pool.query<{ ms: number }>(
      `SELECT extract(epoch FROM ${visibleAt} - fire_at) * 1000 AS ms FROM hostrun.runs WHERE fire_at = ANY ($1)`, [fireTimes]);
    const { rows: dup } = await pool.query<{ n: string }>(
      `SELECT coalesce(sum(c - 1), 0) AS n FROM (SELECT count(*) AS c FROM hostrun.runs WHERE schedule_id IS NOT NULL GROUP BY schedule_id, fire_at HAVING count(*) > 1) d`);
    const lat = rows.map((r) => Number(r.ms));
    return {
      schedules: o.schedules,
      cron: o.cron,
      instances,
      fireTimes: fireTimes.length,
      fires: lat.length,
      expected: fireTimes.length * o.schedules,
      duplicates: Number(dup[0]!.n),
      p50: quantile(lat, 0.5),
      p99: quantile(lat, 0.99),
      max: quantile(lat, 1),
      cpuSecondsPerMinute: cpu.reduce((a, b) => a + b, 0) / elapsedMin,
      measuredTo,
    };
  } finally {
    await pool.end();
  }
}

/** BENCH_D_CPU_PROF=<dir>: a V8 CPU profile of each scheduler process, written there. */
function profileArgs(): string[] {
  const dir = process.env.BENCH_D_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}
