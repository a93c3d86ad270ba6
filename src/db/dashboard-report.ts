import type { RunStatus, RunTrigger } from '../core/types.ts';
import type { Queryable } from './pool.ts';
import { LIVE_WITHIN_SECONDS, type ReportWindow } from './reports.ts';
import { workersList } from './workers.ts';

// ---- The dashboard: one answer for the web UI's first page. ----

export interface DashboardHour {
  /** The start of the hour (UTC). */
  hour: Date;
  succeeded: number;
  failed: number;
  /** Canceled, queued or running. */
  other: number;
}

export interface DashboardFailingJob {
  job_name: string;
  failed: number;
  runs: number;
  last_failed_run_id: number;
  last_failed_at: Date;
  /** The job's newest run in the window: failing now, or failed earlier and since recovered. */
  last_status: RunStatus;
}

export interface DashboardNextRun {
  job_name: string;
  schedule_id: string;
  cron: string | null;
  every_seconds: number | null;
  timezone: string;
  anchor_at: Date;
  next_fire_at: Date;
}

export interface DashboardRecentRun {
  id: number;
  job_name: string;
  status: RunStatus;
  trigger: RunTrigger;
  target: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

// name: reportDashboardStatus
// $1 project id, $2 since. Runs created in the window, per status (every status present).
const REPORT_DASHBOARD_STATUS_SQL = `
SELECT s.status::text AS status, count(r.id)::int AS runs
  FROM unnest(enum_range(NULL::hostrun.run_status)) AS s(status)
  LEFT JOIN hostrun.runs r ON r.project_id = $1 AND r.created_at >= $2 AND r.status = s.status
 GROUP BY s.status`;

// name: reportDashboardHours
// $1 project id, $2 since (the start of the first hour). One row per hour, empty hours included.
const REPORT_DASHBOARD_HOURS_SQL = `
WITH hours AS (
  SELECT generate_series(date_trunc('hour', $2::timestamptz), date_trunc('hour', now()), interval '1 hour') AS hour
), r AS (
  SELECT date_trunc('hour', created_at) AS hour, status
    FROM hostrun.runs
   WHERE project_id = $1 AND created_at >= date_trunc('hour', $2::timestamptz)
)
SELECT h.hour,
       count(r.status) FILTER (WHERE r.status = 'succeeded')::int AS succeeded,
       count(r.status) FILTER (WHERE r.status IN ('failed', 'timed_out'))::int AS failed,
       count(r.status) FILTER (WHERE r.status NOT IN ('succeeded', 'failed', 'timed_out'))::int AS other
  FROM hours h LEFT JOIN r ON r.hour = h.hour
 GROUP BY h.hour
 ORDER BY h.hour`;

// name: reportDashboardFailingJobs
// $1 project id, $2 since, $3 limit. Jobs with failures in the window: those whose newest run
// failed first, then by failures.
const REPORT_DASHBOARD_FAILING_JOBS_SQL = `
WITH r AS (
  SELECT id, job_name, status, created_at
    FROM hostrun.runs
   WHERE project_id = $1 AND created_at >= $2 AND parent_run_id IS NULL AND trigger <> 'host_test'
), per_job AS (
  SELECT job_name,
         count(*) FILTER (WHERE status IN ('failed', 'timed_out'))::int AS failed,
         count(*)::int AS runs,
         max(id) FILTER (WHERE status IN ('failed', 'timed_out')) AS last_failed_run_id,
         max(created_at) FILTER (WHERE status IN ('failed', 'timed_out')) AS last_failed_at,
         (array_agg(status ORDER BY id DESC))[1] AS last_status
    FROM r
   GROUP BY job_name
)
SELECT job_name, failed, runs, last_failed_run_id, last_failed_at, last_status
  FROM per_job
 WHERE failed > 0
 ORDER BY last_status IN ('failed', 'timed_out') DESC, failed DESC, job_name
 LIMIT $3`;

// name: reportDashboardNextRuns
// $1 project id, $2 limit. The soonest fire times of enabled schedules of enabled jobs.
const REPORT_DASHBOARD_NEXT_RUNS_SQL = `
SELECT j.name AS job_name, s.id AS schedule_id, s.cron, s.every_seconds, s.timezone, s.anchor_at, s.next_fire_at
  FROM hostrun.schedules s
  JOIN hostrun.jobs j ON j.id = s.job_id
 WHERE s.project_id = $1 AND s.enabled AND j.enabled AND s.next_fire_at IS NOT NULL
 ORDER BY s.next_fire_at, j.name
 LIMIT $2`;

// name: reportDashboardRecentRuns
// $1 project id, $2 limit. Newest first.
const REPORT_DASHBOARD_RECENT_RUNS_SQL = `
SELECT id, job_name, status, trigger, target, created_at, started_at, finished_at
  FROM hostrun.runs
 WHERE project_id = $1
 ORDER BY id DESC
 LIMIT $2`;

// name: reportDashboardJobCount
// $1 project id. Jobs defined (the dashboard of a new project says how to create the first).
const REPORT_DASHBOARD_JOB_COUNT_SQL = `SELECT count(*)::int AS n FROM hostrun.jobs WHERE project_id = $1`;

export interface DashboardFigures {
  /** Every status, zero included. */
  by_status: Record<RunStatus, number>;
  hours: DashboardHour[];
  failing_jobs: DashboardFailingJob[];
  next_runs: DashboardNextRun[];
  recent_runs: DashboardRecentRun[];
  jobs: number;
  /** Live workers (not stopped, heartbeat within LIVE_WITHIN_SECONDS). */
  workers_online: number;
}

export async function reportDashboard(db: Queryable, w: ReportWindow & { limit: number }): Promise<DashboardFigures> {
  const [status, hours, failing, next, recent, jobs, workers] = await Promise.all([
    db.query<{ status: RunStatus; runs: number }>(REPORT_DASHBOARD_STATUS_SQL, [w.projectId, w.since]),
    db.query<DashboardHour>(REPORT_DASHBOARD_HOURS_SQL, [w.projectId, w.since]),
    db.query<DashboardFailingJob>(REPORT_DASHBOARD_FAILING_JOBS_SQL, [w.projectId, w.since, w.limit]),
    db.query<DashboardNextRun>(REPORT_DASHBOARD_NEXT_RUNS_SQL, [w.projectId, w.limit]),
    db.query<DashboardRecentRun>(REPORT_DASHBOARD_RECENT_RUNS_SQL, [w.projectId, w.limit]),
    db.query<{ n: number }>(REPORT_DASHBOARD_JOB_COUNT_SQL, [w.projectId]),
    workersList(db, LIVE_WITHIN_SECONDS),
  ]);
  return {
    by_status: Object.fromEntries(status.rows.map((r) => [r.status, r.runs])) as Record<RunStatus, number>,
    hours: hours.rows,
    failing_jobs: failing.rows,
    next_runs: next.rows,
    recent_runs: recent.rows,
    jobs: jobs.rows[0]?.n ?? 0,
    workers_online: workers.filter((x) => x.stopped_at === null).length,
  };
}
