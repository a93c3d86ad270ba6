import type { Pool } from '../../src/db/pool.ts';
import { applyJob } from '../support/fixtures.ts';

// A run history with known figures, written straight into `runs` with controlled timestamps
// (no worker involved), shared by the report tests in process and through the CLI.
//
// etl (target local), three days in a row at 10:00 UTC, starting four days ago:
//   day 0: succeeded 1 s, succeeded 2 s, failed 3 s (exit 2, stderr "boom: disk full")
//   day 1: succeeded 4 s, timed_out 10 s
//   day 2: succeeded 5 s, canceled after 0.5 s (no duration: canceled)
// sync (target db-host): failed twice, "worker lost: lease expired on attempt 1"
// old (target local): one success 40 days ago, outside the default 30-day window.
// Every run that started waited in the queue 100 ms times its position (1-based, in insert order).

export const DAY_MS = 86_400_000;

export interface HistoryRun {
  job: 'etl' | 'sync' | 'old';
  status: 'succeeded' | 'failed' | 'timed_out' | 'canceled';
  day: number;
  ms: number;
  target?: string;
  exit?: number;
  error?: string;
  stderr?: string;
}

export const HISTORY: HistoryRun[] = [
  { job: 'etl', status: 'succeeded', day: 0, ms: 1000, exit: 0 },
  { job: 'etl', status: 'succeeded', day: 0, ms: 2000, exit: 0 },
  { job: 'etl', status: 'failed', day: 0, ms: 3000, exit: 2, error: 'step 1 (etl) failed with exit code 2', stderr: 'warning: low space\nboom: disk full\n' },
  { job: 'etl', status: 'succeeded', day: 1, ms: 4000, exit: 0 },
  { job: 'etl', status: 'timed_out', day: 1, ms: 10000, error: 'timed out after 10 s' },
  { job: 'etl', status: 'succeeded', day: 2, ms: 5000, exit: 0 },
  { job: 'etl', status: 'canceled', day: 2, ms: 500, error: 'canceled' },
  { job: 'sync', status: 'failed', day: 2, ms: 700, target: 'db-host', error: 'worker lost: lease expired on attempt 1' },
  { job: 'sync', status: 'failed', day: 2, ms: 900, target: 'db-host', error: 'worker lost: lease expired on attempt 1' },
  { job: 'old', status: 'succeeded', day: -36, ms: 1000, exit: 0 },
];

/** Midnight UTC four days ago: day 0 of the history. */
export function historyStart(now = Date.now()): number {
  return Math.floor(now / DAY_MS) * DAY_MS - 4 * DAY_MS;
}

export function isoDay(day: number, now = Date.now()): string {
  return new Date(historyStart(now) + day * DAY_MS).toISOString().slice(0, 10);
}

/** Applies the three jobs and inserts the history; returns the run ids in HISTORY order. */
export async function insertHistory(pool: Pool): Promise<number[]> {
  const jobs = new Map<string, { id: string; projectId: string }>();
  for (const name of ['etl', 'sync', 'old']) {
    const applied = await applyJob(pool, `name: ${name}\nsteps:\n  - run: echo ${name}\n`);
    jobs.set(name, { id: applied.job.id, projectId: applied.projectId });
  }
  const start = historyStart();
  const ids: number[] = [];
  for (const [i, r] of HISTORY.entries()) {
    const job = jobs.get(r.job)!;
    const created = new Date(start + r.day * DAY_MS + 10 * 3_600_000 + i * 60_000);
    const started = new Date(created.getTime() + (i + 1) * 100);
    const finished = new Date(started.getTime() + r.ms);
    const { rows } = await pool.query<{ id: number }>(
      `INSERT INTO hostrun.runs (project_id, job_id, job_name, job_version, trigger, target, status, attempt,
                                 created_at, run_after, claimed_at, started_at, finished_at, exit_code, error)
       VALUES ($1, $2, $3, 1, 'api', $4, $5, 1, $6, $6, $7, $7, $8, $9, $10) RETURNING id`,
      [job.projectId, job.id, r.job, r.target ?? 'local', r.status, created, started, finished, r.exit ?? null, r.error ?? null],
    );
    const id = rows[0]!.id;
    ids.push(id);
    if (r.stderr) {
      await pool.query(
        `INSERT INTO hostrun.run_logs (run_id, seq, attempt, step_idx, stream, at, text)
         VALUES ($1, 1, 1, 0, 'stdout', $2, 'starting'), ($1, 2, 1, 0, 'stderr', $2, $3)`,
        [id, finished, r.stderr.replace(/\n$/, '')],
      );
    }
  }
  return ids;
}
