import { HostrunError } from '../core/errors.ts';
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

// The API's JSON for a run, written as text without building objects. Listing 50 runs spent
// most of its time in Node turning rows into objects (six timestamps each through a date
// parser) and the objects back into JSON; then in Postgres, whose json_build_object looks up
// how to write each of its 27 values again for every row (~1 ms of Postgres CPU per page of
// 50, twice what the rest of the request cost). Now Postgres returns each column's own text
// (no type parsing in the driver) and runJsonText below pastes them into the answer.
//
// The text is byte for byte what json_build_object wrote before (the test keeps that query as
// its reference): `{"key" : value, ...}`, jsonb columns as jsonb writes them, labels as
// to_json writes an array, strings escaped as Postgres escapes them (the same characters as
// JSON.stringify), and timestamps as JSON.stringify writes a Date (UTC, milliseconds
// truncated, "Z"), the shape runGet's rows take through c.json.

// The filters of both list statements below, one fixed text: each filter is "NULL or matches",
// so no statement is ever assembled from optional clauses.
// $1 project id, $2 job name or null, $3 statuses or null, $4 trigger or null,
// $5 return only ids below this (the cursor) or null, $6 limit, $7 created at or after this
// time or null, $8 created before this time or null.
// Keyset pagination on id, newest first: page N costs what page 1 costs (no OFFSET), and
// runs inserted while paging never shift a page.
const RUNS_LIST_WHERE = `
 WHERE project_id = $1
   AND ($2::text IS NULL OR job_name = $2)
   AND ($3::hostrun.run_status[] IS NULL OR status = ANY ($3))
   AND ($4::text IS NULL OR trigger = $4)
   AND ($5::bigint IS NULL OR id < $5)
   AND ($7::timestamptz IS NULL OR created_at >= $7)
   AND ($8::timestamptz IS NULL OR created_at < $8)
 ORDER BY id DESC
 LIMIT $6`;

// name: runsListJson
// Parameters: RUNS_LIST_WHERE's. Rows are arrays of text in the order of runJsonText, then the
// row version (xmin); timestamps in UTC without zone ("2026-11-22 04:33:21.123456").
const RUNS_LIST_JSON_SQL = `
SELECT id, project_id, job_id, job_name, job_version, parent_run_id, trigger, schedule_id,
       fire_at AT TIME ZONE 'UTC', inputs, target, to_json(labels), status, priority, attempt,
       max_attempts, run_after AT TIME ZONE 'UTC', worker_id, cancel_requested_at AT TIME ZONE 'UTC',
       created_by, created_at AT TIME ZONE 'UTC', claimed_at AT TIME ZONE 'UTC',
       started_at AT TIME ZONE 'UTC', finished_at AT TIME ZONE 'UTC', exit_code, error, outputs, xmin
  FROM hostrun.runs ${RUNS_LIST_WHERE}`;

// name: runsListVersions
// Parameters: RUNS_LIST_WHERE's. One row: the "id:xmin" of each run runsListJson would list
// (the extra row included), newest first, comma-separated; NULL when there is none.
const RUNS_LIST_VERSIONS_SQL = `
SELECT string_agg(id::text || ':' || xmin::text, ',' ORDER BY id DESC) AS versions
  FROM (SELECT id, xmin FROM hostrun.runs ${RUNS_LIST_WHERE}) page`;

type TextRow = (string | null)[];

// Every column as Postgres wrote it: nothing parsed, so nothing to write back.
const asText = { getTypeParser: () => (value: string) => value };

/** A column that JSON writes bare: a number, or JSON text already (jsonb, to_json). */
const bare = (v: string | null | undefined) => (v == null ? 'null' : v);
/** A string column; JSON.stringify escapes exactly what Postgres's escape_json escapes. */
const str = (v: string | null | undefined) => (v == null ? 'null' : JSON.stringify(v));

// "2026-11-22 04:33:21.123456": a timestamp's text in the ISO DateStyle (which the driver's
// own date parsing also needs). Years past 9999 have more digits; " BC" is dropped, as
// to_char's YYYY dropped it.
const TIMESTAMP_TEXT = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(?: BC)?$/;

/** A timestamp as JSON.stringify writes a Date: "2026-11-22T04:33:21.123Z". */
function time(v: string | null | undefined): string {
  if (v == null) return 'null';
  // The usual shape (a four-digit year AD) by position, seven times a run; the rest by pattern.
  const n = v.length;
  if (n >= 19 && n <= 26 && v.charCodeAt(4) === 45 && v.charCodeAt(10) === 32 && v.charCodeAt(n - 1) <= 57) {
    return `"${v.slice(0, 10)}T${v.slice(11, 19)}.${v.slice(20, 23).padEnd(3, '0')}Z"`;
  }
  const m = TIMESTAMP_TEXT.exec(v);
  if (m) return `"${m[1]}T${m[2]}.${(m[3] ?? '').slice(0, 3).padEnd(3, '0')}Z"`;
  // to_char gave NULL for ±infinity, as JSON.stringify does for the invalid Date they parse to.
  if (v === 'infinity' || v === '-infinity') return 'null';
  throw new HostrunError('internal', `unexpected timestamp text "${v}" (is the database's DateStyle ISO?)`);
}

function runJsonText(r: TextRow): string {
  return (
    `{"id" : ${bare(r[0])}, "project_id" : ${str(r[1])}, "job_id" : ${str(r[2])}, "job_name" : ${str(r[3])}, ` +
    `"job_version" : ${bare(r[4])}, "parent_run_id" : ${bare(r[5])}, "trigger" : ${str(r[6])}, ` +
    `"schedule_id" : ${str(r[7])}, "fire_at" : ${time(r[8])}, "inputs" : ${bare(r[9])}, "target" : ${str(r[10])}, ` +
    `"labels" : ${bare(r[11])}, "status" : ${str(r[12])}, "priority" : ${bare(r[13])}, "attempt" : ${bare(r[14])}, ` +
    `"max_attempts" : ${bare(r[15])}, "run_after" : ${time(r[16])}, "worker_id" : ${str(r[17])}, ` +
    `"cancel_requested_at" : ${time(r[18])}, "created_by" : ${str(r[19])}, "created_at" : ${time(r[20])}, ` +
    `"claimed_at" : ${time(r[21])}, "started_at" : ${time(r[22])}, "finished_at" : ${time(r[23])}, ` +
    `"exit_code" : ${bare(r[24])}, "error" : ${str(r[25])}, "outputs" : ${bare(r[26])}}`
  );
}

export interface RunsPageJson {
  /** The page's runs as a JSON array, in the shape of RunRow. */
  json: string;
  /** The id to pass as beforeId for the next page, or null on the last page. */
  nextBeforeId: number | null;
  /** What runsListVersions answers while no listed run has changed (nor joined or left the list). */
  versions: string | null;
}

function runsListValues(filter: RunsListFilter): unknown[] {
  return [
    filter.projectId,
    filter.jobName ?? null,
    filter.statuses && filter.statuses.length > 0 ? filter.statuses : null,
    filter.trigger ?? null,
    filter.beforeId ?? null,
    // One row more than asked says whether another page exists without a COUNT.
    filter.limit + 1,
    filter.createdAfter ?? null,
    filter.createdBefore ?? null,
  ];
}

export async function runsListJson(db: Queryable, filter: RunsListFilter): Promise<RunsPageJson> {
  const { rows } = await db.query<TextRow>({ text: RUNS_LIST_JSON_SQL, values: runsListValues(filter), rowMode: 'array', types: asText });
  const more = rows.length > filter.limit;
  const page = more ? rows.slice(0, filter.limit) : rows;
  return {
    json: `[${page.map(runJsonText).join(',')}]`,
    nextBeforeId: more ? Number(page[page.length - 1]![0]) : null,
    versions: rows.length === 0 ? null : rows.map((r) => `${r[0]}:${r[27]}`).join(','),
  };
}

/**
 * The version of every run a list request would answer with, as one string: equal strings
 * mean an equal answer, byte for byte. A run's JSON depends on its row alone, and a row
 * version (xmin, the transaction that wrote it) names one content: any change writes a new
 * version. Costs Postgres and the driver a fraction of what building the page does.
 */
export async function runsListVersions(db: Queryable, filter: RunsListFilter): Promise<string | null> {
  const { rows } = await db.query<{ versions: string | null }>(RUNS_LIST_VERSIONS_SQL, runsListValues(filter));
  return rows[0]?.versions ?? null;
}

// name: runStepsList
// $1 run id. A run's step states are a JSON array in its row, times in epoch ms (0013_hot_queue.sql).
const RUN_STEPS_LIST_SQL = `
SELECT s.idx, s.attempt, s.step_id, s.name, s.status, s.exit_code,
       to_timestamp(s.started_at / 1000) AS started_at, to_timestamp(s.finished_at / 1000) AS finished_at, s.outputs, s.error
  FROM hostrun.runs r,
       json_to_recordset(r.steps) AS s(idx integer, attempt integer, step_id text, name text, status text, exit_code integer,
                                       started_at double precision, finished_at double precision, outputs jsonb, error text)
 WHERE r.id = $1
 ORDER BY s.idx`;

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
