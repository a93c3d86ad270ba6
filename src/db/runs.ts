import type { RunStatus, RunTrigger, StepStatus } from '../core/types.ts';
import type { Queryable } from './pool.ts';

// The read side of runs: what the API and CLI show. Writes belong to src/queue/ (enqueue,
// claim, complete, cancel) so the state machine has one owner.

export interface RunRow {
  id: number;
  project_id: string;
  job_id: string | null;
  job_name: string;
  job_version: number;
  parent_run_id: number | null;
  trigger: RunTrigger;
  schedule_id: string | null;
  fire_at: Date | null;
  inputs: Record<string, unknown>;
  target: string;
  labels: string[];
  status: RunStatus;
  priority: number;
  attempt: number;
  max_attempts: number;
  run_after: Date;
  worker_id: string | null;
  cancel_requested_at: Date | null;
  /** The user who asked for the run, when a person did. */
  created_by: string | null;
  created_at: Date;
  claimed_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  exit_code: number | null;
  error: string | null;
  outputs: Record<string, unknown> | null;
}

export interface RunStepRow {
  idx: number;
  attempt: number;
  step_id: string;
  name: string;
  status: StepStatus;
  exit_code: number | null;
  started_at: Date | null;
  finished_at: Date | null;
  outputs: Record<string, unknown> | null;
  error: string | null;
}

export interface RunLogRow {
  seq: number;
  attempt: number;
  step_idx: number | null;
  stream: 'stdout' | 'stderr' | 'system';
  at: Date;
  text: string;
}

export interface RunEventRow {
  id: number;
  attempt: number;
  from_status: RunStatus | null;
  to_status: RunStatus | null;
  worker_id: string | null;
  at: Date;
  message: string | null;
}

const RUN_COLUMNS = `id, project_id, job_id, job_name, job_version, parent_run_id, trigger, schedule_id, fire_at,
       inputs, target, labels, status, priority, attempt, max_attempts, run_after, worker_id,
       cancel_requested_at, created_by, created_at, claimed_at, started_at, finished_at, exit_code, error, outputs`;

// name: runGet
// $1 project id, $2 run id.
const RUN_GET_SQL = `
SELECT ${RUN_COLUMNS} FROM hostrun.runs WHERE project_id = $1 AND id = $2`;

export async function runGet(db: Queryable, projectId: string, runId: number): Promise<RunRow | null> {
  const { rows } = await db.query<RunRow>(RUN_GET_SQL, [projectId, runId]);
  return rows[0] ?? null;
}

export interface RunsListFilter {
  projectId: string;
  jobName?: string;
  statuses?: RunStatus[];
  trigger?: RunTrigger;
  /** Only runs with an id below this one (the last id of the previous page). */
  beforeId?: number;
  limit: number;
  createdAfter?: Date;
  createdBefore?: Date;
}

// The API's JSON for a run, built by Postgres. Listing 50 runs spent most of its time in
// Node turning rows into objects (six timestamps each through a date parser) and the objects
// back into JSON; built in the query, a page is one string per row, spliced into the answer.
// Timestamps are written as JSON.stringify writes a Date (UTC, milliseconds truncated, "Z"),
// so both paths give clients the same text for the same run.
const jsonTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const RUN_JSON = `json_build_object(
  'id', id, 'project_id', project_id, 'job_id', job_id, 'job_name', job_name, 'job_version', job_version,
  'parent_run_id', parent_run_id, 'trigger', trigger, 'schedule_id', schedule_id, 'fire_at', ${jsonTime('fire_at')},
  'inputs', inputs, 'target', target, 'labels', labels, 'status', status, 'priority', priority, 'attempt', attempt,
  'max_attempts', max_attempts, 'run_after', ${jsonTime('run_after')}, 'worker_id', worker_id,
  'cancel_requested_at', ${jsonTime('cancel_requested_at')}, 'created_by', created_by, 'created_at', ${jsonTime('created_at')},
  'claimed_at', ${jsonTime('claimed_at')}, 'started_at', ${jsonTime('started_at')}, 'finished_at', ${jsonTime('finished_at')},
  'exit_code', exit_code, 'error', error, 'outputs', outputs)`;

// name: runsListJson
// $1 project id, $2 job name or null, $3 statuses or null, $4 trigger or null,
// $5 return only ids below this (the cursor) or null, $6 limit, $7 created at or after this
// time or null, $8 created before this time or null. Rows: (id, the run as JSON text).
// Keyset pagination on id, newest first: page N costs what page 1 costs (no OFFSET), and
// runs inserted while paging never shift a page. Each filter is "NULL or matches", so the
// statement is one fixed text, never assembled from optional clauses.
const RUNS_LIST_JSON_SQL = `
SELECT id, ${RUN_JSON}::text AS run
  FROM hostrun.runs
 WHERE project_id = $1
   AND ($2::text IS NULL OR job_name = $2)
   AND ($3::hostrun.run_status[] IS NULL OR status = ANY ($3))
   AND ($4::text IS NULL OR trigger = $4)
   AND ($5::bigint IS NULL OR id < $5)
   AND ($7::timestamptz IS NULL OR created_at >= $7)
   AND ($8::timestamptz IS NULL OR created_at < $8)
 ORDER BY id DESC
 LIMIT $6`;

export interface RunsPageJson {
  /** The page's runs as a JSON array, in the shape of RunRow. */
  json: string;
  /** The id to pass as beforeId for the next page, or null on the last page. */
  nextBeforeId: number | null;
}

export async function runsListJson(db: Queryable, filter: RunsListFilter): Promise<RunsPageJson> {
  // One row more than asked says whether another page exists without a COUNT.
  const { rows } = await db.query<{ id: number; run: string }>(RUNS_LIST_JSON_SQL, [
    filter.projectId,
    filter.jobName ?? null,
    filter.statuses && filter.statuses.length > 0 ? filter.statuses : null,
    filter.trigger ?? null,
    filter.beforeId ?? null,
    filter.limit + 1,
    filter.createdAfter ?? null,
    filter.createdBefore ?? null,
  ]);
  const more = rows.length > filter.limit;
  const page = more ? rows.slice(0, filter.limit) : rows;
  return { json: `[${page.map((r) => r.run).join(',')}]`, nextBeforeId: more ? page[page.length - 1]!.id : null };
}

// name: runStepsList
// $1 run id.
const RUN_STEPS_LIST_SQL = `
SELECT idx, attempt, step_id, name, status, exit_code, started_at, finished_at, outputs, error
  FROM hostrun.run_steps WHERE run_id = $1 ORDER BY idx`;

export async function runStepsList(db: Queryable, runId: number): Promise<RunStepRow[]> {
  const { rows } = await db.query<RunStepRow>(RUN_STEPS_LIST_SQL, [runId]);
  return rows;
}

// name: runLogsAfter
// $1 run id, $2 return lines with seq above this, $3 limit.
const RUN_LOGS_AFTER_SQL = `
SELECT seq, attempt, step_idx, stream, at, text
  FROM hostrun.run_logs WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`;

export async function runLogsAfter(db: Queryable, runId: number, afterSeq: number, limit: number): Promise<RunLogRow[]> {
  const { rows } = await db.query<RunLogRow>(RUN_LOGS_AFTER_SQL, [runId, afterSeq, limit]);
  return rows;
}

// name: runEventsAfter
// $1 run id, $2 return events with id above this, $3 limit.
const RUN_EVENTS_AFTER_SQL = `
SELECT id, attempt, from_status, to_status, worker_id, at, message
  FROM hostrun.run_events WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT $3`;

export async function runEventsAfter(db: Queryable, runId: number, afterId: number, limit: number): Promise<RunEventRow[]> {
  const { rows } = await db.query<RunEventRow>(RUN_EVENTS_AFTER_SQL, [runId, afterId, limit]);
  return rows;
}

// name: runLogsSearch
// $1 run id, $2 text to find (case-insensitive, taken literally), $3 return rows with seq
// above this, $4 limit. A row holds the lines that arrived together; the client picks the
// matching lines out of the rows returned.
const RUN_LOGS_SEARCH_SQL = `
SELECT seq, attempt, step_idx, stream, at, text
  FROM hostrun.run_logs
 WHERE run_id = $1 AND seq > $3 AND strpos(lower(text), lower($2)) > 0
 ORDER BY seq LIMIT $4`;

export async function runLogsSearch(db: Queryable, runId: number, text: string, afterSeq: number, limit: number): Promise<RunLogRow[]> {
  const { rows } = await db.query<RunLogRow>(RUN_LOGS_SEARCH_SQL, [runId, text, afterSeq, limit]);
  return rows;
}
