import type { RunStatus, RunTrigger } from '../core/types.ts';
import type { Queryable } from './pool.ts';
import { workersList, type WorkerRow } from './workers.ts';

// Reports on run history: how often jobs run, how often they fail and why, how long they
// take and how long they wait in the queue. Everything is computed in SQL over `runs` (the
// queue and the history are one table), within a window `created_at >= since`.
//
// Definitions, the same in every statement:
// - a run "failed" when its status is failed or timed_out; canceled runs count as runs but
//   neither as successes nor as failures;
// - success_rate = succeeded / (succeeded + failed), a fraction 0..1, null with neither;
// - duration = finished_at - started_at of runs that succeeded, failed or timed out (a
//   canceled run's duration says when someone pressed cancel, not how long the job takes);
// - queue wait = started_at - created_at of every run that started: the time from being
//   asked for (a manual request, a schedule's fire) to running, retries' back-off included;
// - percentiles are percentile_cont (interpolated), in milliseconds.

/** Milliseconds from start to finish, for runs whose duration means something (see above). */
const DURATION_MS = `CASE WHEN status IN ('succeeded', 'failed', 'timed_out') AND started_at IS NOT NULL AND finished_at IS NOT NULL
            THEN extract(epoch FROM finished_at - started_at)::float8 * 1000 END`;

/** The figures of a summary over rows with (status, duration_ms): the same for one job, each job, and all. */
const SUMMARY_AGGREGATES = `count(*) AS runs,
       count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE status IN ('failed', 'timed_out')) AS failed,
       count(*) FILTER (WHERE status = 'canceled') AS canceled,
       count(*) FILTER (WHERE status IN ('queued', 'claimed', 'running')) AS in_flight,
       count(*) FILTER (WHERE status = 'succeeded')::float8
         / nullif(count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'timed_out')), 0) AS success_rate,
       avg(duration_ms) AS avg_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms`;

export interface RunFigures {
  runs: number;
  succeeded: number;
  failed: number;
  canceled: number;
  /** Queued, claimed or running now. */
  in_flight: number;
  success_rate: number | null;
  avg_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
}

// name: reportJobSummary
// $1 project id, $2 job name, $3 since.
const REPORT_JOB_SUMMARY_SQL = `
WITH r AS (
  SELECT status, ${DURATION_MS} AS duration_ms
    FROM hostrun.runs
   WHERE project_id = $1 AND job_name = $2 AND created_at >= $3
)
SELECT ${SUMMARY_AGGREGATES}
  FROM r`;

export interface FailureRow {
  id: number;
  status: RunStatus;
  target: string;
  created_at: Date;
  finished_at: Date | null;
  exit_code: number | null;
  error: string | null;
  /** The last line the run printed on stderr (stdout when it printed nothing on stderr). */
  error_line: string | null;
}

// name: reportJobFailures
// $1 project id, $2 job name, $3 since, $4 limit. Newest first. A log row holds the lines that
// arrived together, so the last line of the newest stderr row (else stdout) is taken.
const REPORT_JOB_FAILURES_SQL = `
SELECT r.id, r.status, r.target, r.created_at, r.finished_at, r.exit_code, r.error,
       (SELECT (regexp_match(rtrim(l.text, E'\\n'), '[^\\n]*$'))[1]
          FROM hostrun.run_logs l
         WHERE l.run_id = r.id AND l.stream IN ('stderr', 'stdout')
         ORDER BY l.stream = 'stderr' DESC, l.seq DESC
         LIMIT 1) AS error_line
  FROM hostrun.runs r
 WHERE r.project_id = $1 AND r.job_name = $2 AND r.created_at >= $3 AND r.status IN ('failed', 'timed_out')
 ORDER BY r.id DESC
 LIMIT $4`;

export interface TrendRow {
  /** YYYY-MM-DD in the report's time zone. */
  day: string;
  runs: number;
  succeeded: number;
  failed: number;
  avg_ms: number | null;
  p95_ms: number | null;
}

// name: reportJobTrend
// $1 project id, $2 job name, $3 since, $4 IANA time zone the days are cut in.
const REPORT_JOB_TREND_SQL = `
WITH r AS (
  SELECT status, (created_at AT TIME ZONE $4)::date AS day, ${DURATION_MS} AS duration_ms
    FROM hostrun.runs
   WHERE project_id = $1 AND job_name = $2 AND created_at >= $3
)
SELECT to_char(day, 'YYYY-MM-DD') AS day,
       count(*) AS runs,
       count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE status IN ('failed', 'timed_out')) AS failed,
       avg(duration_ms) AS avg_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms
  FROM r
 GROUP BY day
 ORDER BY day`;

export interface JobReport {
  job_name: string;
  since: Date;
  timezone: string;
  summary: RunFigures;
  last_failures: FailureRow[];
  trend: TrendRow[];
}

export interface ReportWindow {
  projectId: string;
  since: Date;
}

export async function reportJob(db: Queryable, w: ReportWindow & { jobName: string; timezone: string; failures: number }): Promise<JobReport> {
  const [summary, failures, trend] = await Promise.all([
    db.query<RunFigures>(REPORT_JOB_SUMMARY_SQL, [w.projectId, w.jobName, w.since]),
    db.query<FailureRow>(REPORT_JOB_FAILURES_SQL, [w.projectId, w.jobName, w.since, w.failures]),
    db.query<TrendRow>(REPORT_JOB_TREND_SQL, [w.projectId, w.jobName, w.since, w.timezone]),
  ]);
  return { job_name: w.jobName, since: w.since, timezone: w.timezone, summary: summary.rows[0]!, last_failures: failures.rows, trend: trend.rows };
}

export interface JobFiguresRow extends RunFigures {
  job_name: string;
  /** The job still exists (history of deleted jobs is reported under their name). */
  defined: boolean;
  last_run_at: Date | null;
  last_status: RunStatus | null;
}

// name: reportJobs
// $1 project id, $2 since. One row per job: every defined job (with zeros when it has not run
// in the window) and every job name that has runs in the window, deleted jobs included.
const REPORT_JOBS_SQL = `
WITH r AS (
  SELECT id, job_name, status, created_at, ${DURATION_MS} AS duration_ms
    FROM hostrun.runs
   WHERE project_id = $1 AND created_at >= $2
), per_job AS (
  SELECT job_name,
         ${SUMMARY_AGGREGATES},
         max(created_at) AS last_run_at,
         (array_agg(status ORDER BY id DESC))[1] AS last_status
    FROM r
   GROUP BY job_name
)
SELECT coalesce(j.name, p.job_name) AS job_name,
       j.name IS NOT NULL AS defined,
       coalesce(p.runs, 0) AS runs, coalesce(p.succeeded, 0) AS succeeded, coalesce(p.failed, 0) AS failed,
       coalesce(p.canceled, 0) AS canceled, coalesce(p.in_flight, 0) AS in_flight,
       p.success_rate, p.avg_ms, p.p50_ms, p.p95_ms, p.last_run_at, p.last_status
  FROM (SELECT name FROM hostrun.jobs WHERE project_id = $1) j
  FULL JOIN per_job p ON p.job_name = j.name
 ORDER BY 1`;

export async function reportJobs(db: Queryable, w: ReportWindow): Promise<JobFiguresRow[]> {
  const { rows } = await db.query<JobFiguresRow>(REPORT_JOBS_SQL, [w.projectId, w.since]);
  return rows;
}

// name: reportTotals
// $1 project id, $2 since. The whole project's figures.
const REPORT_TOTALS_SQL = `
WITH r AS (
  SELECT status, ${DURATION_MS} AS duration_ms
    FROM hostrun.runs
   WHERE project_id = $1 AND created_at >= $2
)
SELECT ${SUMMARY_AGGREGATES}
  FROM r`;

export interface FailureCauseRow {
  /** The run's error message as the worker wrote it (`step 2 (build) failed with exit code 3`). */
  error: string;
  runs: number;
  jobs: string[];
  last_at: Date;
}

// name: reportFailureCauses
// $1 project id, $2 since, $3 limit. Failed runs grouped by their error text, most common first.
const REPORT_FAILURE_CAUSES_SQL = `
SELECT coalesce(error, '(no error recorded)') AS error,
       count(*) AS runs,
       array_agg(DISTINCT job_name ORDER BY job_name) AS jobs,
       max(created_at) AS last_at
  FROM hostrun.runs
 WHERE project_id = $1 AND created_at >= $2 AND status IN ('failed', 'timed_out')
 GROUP BY 1
 ORDER BY runs DESC, last_at DESC
 LIMIT $3`;

export interface TargetFailuresRow {
  /** `local`, a host name, or labels: where the runs were sent (runs.target). */
  target: string;
  runs: number;
  failed: number;
  failure_rate: number | null;
}

// name: reportTargetFailures
// $1 project id, $2 since, $3 limit. Targets with at least one failure, most failures first.
const REPORT_TARGET_FAILURES_SQL = `
SELECT target,
       count(*) AS runs,
       count(*) FILTER (WHERE status IN ('failed', 'timed_out')) AS failed,
       count(*) FILTER (WHERE status IN ('failed', 'timed_out'))::float8
         / nullif(count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'timed_out')), 0) AS failure_rate
  FROM hostrun.runs
 WHERE project_id = $1 AND created_at >= $2
 GROUP BY target
HAVING count(*) FILTER (WHERE status IN ('failed', 'timed_out')) > 0
 ORDER BY failed DESC, runs DESC, target
 LIMIT $3`;

export interface QueueWaitFigures {
  /** Runs that started, i.e. that have a wait. */
  runs: number;
  avg_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  max_ms: number | null;
}

// name: reportQueueWait
// $1 project id, $2 since.
const REPORT_QUEUE_WAIT_SQL = `
WITH w AS (
  SELECT extract(epoch FROM started_at - created_at)::float8 * 1000 AS wait_ms
    FROM hostrun.runs
   WHERE project_id = $1 AND created_at >= $2 AND started_at IS NOT NULL
)
SELECT count(*) AS runs,
       avg(wait_ms) AS avg_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_ms) AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY wait_ms) AS p95_ms,
       max(wait_ms) AS max_ms
  FROM w`;

export interface ProjectReport {
  since: Date;
  totals: RunFigures;
  /** Most runs first. */
  busiest_jobs: JobFiguresRow[];
  /** Most failures first; only jobs with failures. */
  most_failing_jobs: JobFiguresRow[];
  failure_causes: FailureCauseRow[];
  failing_targets: TargetFailuresRow[];
  queue_wait: QueueWaitFigures;
}

export async function reportProject(db: Queryable, w: ReportWindow & { limit: number }): Promise<ProjectReport> {
  const [totals, jobs, causes, targets, wait] = await Promise.all([
    db.query<RunFigures>(REPORT_TOTALS_SQL, [w.projectId, w.since]),
    reportJobs(db, w),
    db.query<FailureCauseRow>(REPORT_FAILURE_CAUSES_SQL, [w.projectId, w.since, w.limit]),
    db.query<TargetFailuresRow>(REPORT_TARGET_FAILURES_SQL, [w.projectId, w.since, w.limit]),
    db.query<QueueWaitFigures>(REPORT_QUEUE_WAIT_SQL, [w.projectId, w.since]),
  ]);
  // The per-job figures are one statement; ranking them twice is cheaper than two more scans.
  const ran = jobs.filter((j) => j.runs > 0);
  return {
    since: w.since,
    totals: totals.rows[0]!,
    busiest_jobs: [...ran].sort((a, b) => b.runs - a.runs || a.job_name.localeCompare(b.job_name)).slice(0, w.limit),
    most_failing_jobs: ran
      .filter((j) => j.failed > 0)
      .sort((a, b) => b.failed - a.failed || a.job_name.localeCompare(b.job_name))
      .slice(0, w.limit),
    failure_causes: causes.rows,
    failing_targets: targets.rows,
    queue_wait: wait.rows[0]!,
  };
}

export interface ExportRow {
  id: number;
  job_name: string;
  job_version: number;
  status: RunStatus;
  trigger: RunTrigger;
  target: string;
  attempt: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  queue_wait_ms: number | null;
  exit_code: number | null;
  error: string | null;
}

export const EXPORT_COLUMNS: readonly (keyof ExportRow)[] = [
  'id', 'job_name', 'job_version', 'status', 'trigger', 'target', 'attempt', 'created_at', 'started_at',
  'finished_at', 'duration_ms', 'queue_wait_ms', 'exit_code', 'error',
];

// name: reportExport
// $1 project id, $2 since, $3 job name or null, $4 limit. Oldest first, as a history reads.
const REPORT_EXPORT_SQL = `
SELECT id, job_name, job_version, status, trigger, target, attempt, created_at, started_at, finished_at,
       ${DURATION_MS} AS duration_ms,
       CASE WHEN started_at IS NOT NULL THEN extract(epoch FROM started_at - created_at)::float8 * 1000 END AS queue_wait_ms,
       exit_code, error
  FROM hostrun.runs
 WHERE project_id = $1 AND created_at >= $2 AND ($3::text IS NULL OR job_name = $3)
 ORDER BY id
 LIMIT $4`;

export async function reportExport(db: Queryable, w: ReportWindow & { jobName?: string; limit: number }): Promise<{ runs: ExportRow[]; truncated: boolean }> {
  // One row more than asked says whether the export was cut short.
  const { rows } = await db.query<ExportRow>(REPORT_EXPORT_SQL, [w.projectId, w.since, w.jobName ?? null, w.limit + 1]);
  return { runs: rows.slice(0, w.limit), truncated: rows.length > w.limit };
}

export interface StatusFigures {
  queued: number;
  claimed: number;
  running: number;
  database: { name: string; server_version: string; host: string | null; port: number | null };
  workers: WorkerRow[];
}

// name: reportQueueCounts
// $1 project id. Runs waiting (run_queue) and held by workers (run_leases) now; both tables
// hold only that, so this reads no history. A fan-out parent has no worker and is not counted.
const REPORT_QUEUE_COUNTS_SQL = `
SELECT (SELECT count(*) FROM hostrun.run_queue q JOIN hostrun.runs r ON r.id = q.run_id WHERE r.project_id = $1)::int AS queued,
       count(*) FILTER (WHERE r.status = 'claimed')::int AS claimed,
       count(*) FILTER (WHERE r.status = 'running')::int AS running
  FROM hostrun.run_leases l JOIN hostrun.runs r ON r.id = l.run_id
 WHERE r.project_id = $1`;

// name: reportDatabase
// No parameters. Which database the server uses, without its credentials.
const REPORT_DATABASE_SQL = `
SELECT current_database() AS name, current_setting('server_version') AS server_version,
       host(inet_server_addr()) AS host, inet_server_port() AS port`;

/**
 * Workers are installation-wide (not per project). Live: not stopped, and a heartbeat within
 * three 30 s leases; a worker heartbeats every lease/3 even when idle.
 */
export const LIVE_WITHIN_SECONDS = 90;

export async function reportStatus(db: Queryable, projectId: string): Promise<StatusFigures> {
  const [counts, database, workers] = await Promise.all([
    db.query<{ queued: number; claimed: number; running: number }>(REPORT_QUEUE_COUNTS_SQL, [projectId]),
    db.query<StatusFigures['database']>(REPORT_DATABASE_SQL),
    workersList(db, LIVE_WITHIN_SECONDS),
  ]);
  return { ...counts.rows[0]!, database: database.rows[0]!, workers: workers.filter((w) => w.stopped_at === null) };
}
