import { randomBytes } from 'node:crypto';
import type { JobSpec, RunStatus } from '../core/types.ts';
import { withTransaction, type Pool, type PoolClient, type Queryable } from './pool.ts';
import { schedulesResumeForJob, schedulesSyncForJob } from './schedules.ts';

// Jobs and their version history. A job is applied declaratively: the same spec applied
// twice is one version; a changed spec is a new version, and the old one stays in
// job_versions so a run can always name the exact definition it ran.

export interface JobRow {
  id: string;
  project_id: string;
  name: string;
  description: string | null;
  spec: JobSpec;
  source: string;
  version: number;
  enabled: boolean;
  webhook_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface JobListItem {
  id: string;
  name: string;
  description: string | null;
  version: number;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  last_run: { id: number; status: RunStatus; created_at: Date } | null;
  /** The earliest next fire time of the job's enabled schedules; null when disabled or unscheduled. */
  next_fire_at: Date | null;
}

const JOB_COLUMNS = `id, project_id, name, description, spec, source, version, enabled, webhook_id, created_at, updated_at`;

// name: jobInsert
// $1 project id, $2 name, $3 description, $4 spec (jsonb), $5 source, $6 webhook id.
// ON CONFLICT: another apply of the same name won the race; the caller then updates instead.
const JOB_INSERT_SQL = `
INSERT INTO hostrun.jobs (project_id, name, description, spec, source, webhook_id)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT ON CONSTRAINT jobs_project_name_key DO NOTHING
RETURNING ${JOB_COLUMNS}`;

// name: jobLockByName
// $1 project id, $2 name, $3 the new spec (jsonb). Locks the row so concurrent applies of one
// job take turns; spec_changed compares jsonb values, so key order and whitespace never count.
const JOB_LOCK_BY_NAME_SQL = `
SELECT ${JOB_COLUMNS}, spec IS DISTINCT FROM $3::jsonb AS spec_changed
  FROM hostrun.jobs WHERE project_id = $1 AND name = $2
   FOR UPDATE`;

// name: jobUpdateSpec
// $1 job id, $2 description, $3 spec, $4 source, $5 webhook id. Bumps the version.
const JOB_UPDATE_SPEC_SQL = `
UPDATE hostrun.jobs SET description = $2, spec = $3, source = $4, webhook_id = $5,
       version = version + 1, updated_at = now()
 WHERE id = $1
RETURNING ${JOB_COLUMNS}`;

// name: jobVersionInsert
// $1 job id, $2 version, $3 spec, $4 source, $5 created by (user id or null).
const JOB_VERSION_INSERT_SQL = `
INSERT INTO hostrun.job_versions (job_id, version, spec, source, created_by)
VALUES ($1, $2, $3, $4, $5)`;

export interface JobApplyRequest {
  projectId: string;
  spec: JobSpec;
  /** What the user wrote (YAML or JSON), kept verbatim for `job show`. */
  source: string;
  createdBy?: string;
  now?: Date;
}

export interface JobApplyResult {
  job: JobRow;
  created: boolean;
  /** True when this call wrote a new version (always true when created). */
  changed: boolean;
}

/**
 * Creates the job or, when its normalised spec differs from the stored one, writes a new
 * version; schedules follow the spec in the same transaction. Applying an unchanged spec
 * writes nothing, not even the source text (a comment-only edit is not a new version).
 */
export async function jobApply(pool: Pool, req: JobApplyRequest): Promise<JobApplyResult> {
  const specJson = JSON.stringify(req.spec);
  const description = req.spec.description ?? null;
  return withTransaction(pool, async (tx) => {
    const inserted = await tx.query<JobRow>(JOB_INSERT_SQL, [
      req.projectId,
      req.spec.name,
      description,
      specJson,
      req.source,
      req.spec.webhook ? webhookIdGenerate() : null,
    ]);
    let job = inserted.rows[0];
    let created = false;
    if (job) {
      created = true;
    } else {
      const locked = await tx.query<JobRow & { spec_changed: boolean }>(JOB_LOCK_BY_NAME_SQL, [req.projectId, req.spec.name, specJson]);
      const current = locked.rows[0];
      if (!current) throw new Error(`job ${req.spec.name} vanished during apply`);
      const { spec_changed: specChanged, ...row } = current;
      if (!specChanged) return { job: row, created: false, changed: false };
      // A webhook id is unguessable and stable while the spec keeps `webhook: true`;
      // turning the webhook off drops it, so an old URL stops working.
      const webhookId = req.spec.webhook ? (row.webhook_id ?? webhookIdGenerate()) : null;
      const updated = await tx.query<JobRow>(JOB_UPDATE_SPEC_SQL, [row.id, description, specJson, req.source, webhookId]);
      job = updated.rows[0]!;
    }
    await tx.query(JOB_VERSION_INSERT_SQL, [job.id, job.version, specJson, req.source, req.createdBy ?? null]);
    await schedulesSyncForJob(tx, {
      projectId: req.projectId,
      jobId: job.id,
      schedules: req.spec.schedules,
      now: req.now ?? new Date(),
    });
    return { job, created, changed: true };
  });
}

function webhookIdGenerate(): string {
  return 'wh_' + randomBytes(24).toString('base64url');
}

// name: jobGetByName
// $1 project id, $2 name.
const JOB_GET_BY_NAME_SQL = `
SELECT ${JOB_COLUMNS} FROM hostrun.jobs WHERE project_id = $1 AND name = $2`;

export async function jobGetByName(db: Queryable, projectId: string, name: string): Promise<JobRow | null> {
  const { rows } = await db.query<JobRow>(JOB_GET_BY_NAME_SQL, [projectId, name]);
  return rows[0] ?? null;
}

// name: jobGetById
// $1 project id, $2 job id.
const JOB_GET_BY_ID_SQL = `
SELECT ${JOB_COLUMNS} FROM hostrun.jobs WHERE project_id = $1 AND id = $2`;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function jobGetById(db: Queryable, projectId: string, id: string): Promise<JobRow | null> {
  // Anything that is not a uuid names no job; asking Postgres would be a type error instead.
  if (!UUID_PATTERN.test(id)) return null;
  const { rows } = await db.query<JobRow>(JOB_GET_BY_ID_SQL, [projectId, id]);
  return rows[0] ?? null;
}

// name: jobsList
// $1 project id. Each job with its newest run and the next time one of its schedules fires.
const JOBS_LIST_SQL = `
SELECT j.id, j.name, j.description, j.version, j.enabled, j.created_at, j.updated_at,
       lr.id AS last_run_id, lr.status AS last_run_status, lr.created_at AS last_run_created_at,
       CASE WHEN j.enabled THEN
         (SELECT min(s.next_fire_at) FROM hostrun.schedules s WHERE s.job_id = j.id AND s.enabled)
       END AS next_fire_at
  FROM hostrun.jobs j
  LEFT JOIN LATERAL (
    SELECT r.id, r.status, r.created_at FROM hostrun.runs r WHERE r.job_id = j.id ORDER BY r.id DESC LIMIT 1
  ) lr ON true
 WHERE j.project_id = $1
 ORDER BY j.name`;

interface JobsListRow extends Omit<JobListItem, 'last_run'> {
  last_run_id: number | null;
  last_run_status: RunStatus | null;
  last_run_created_at: Date | null;
}

export async function jobsList(db: Queryable, projectId: string): Promise<JobListItem[]> {
  const { rows } = await db.query<JobsListRow>(JOBS_LIST_SQL, [projectId]);
  return rows.map(({ last_run_id, last_run_status, last_run_created_at, ...job }) => ({
    ...job,
    last_run: last_run_id === null ? null : { id: last_run_id, status: last_run_status!, created_at: last_run_created_at! },
  }));
}

// name: jobDeleteByName
// $1 project id, $2 name. Schedules and versions go with the job (ON DELETE CASCADE); runs
// stay as history under job_name.
const JOB_DELETE_BY_NAME_SQL = `
DELETE FROM hostrun.jobs WHERE project_id = $1 AND name = $2 RETURNING id`;

// name: jobRunsCancelQueued
// $1 project id, $2 job name. Queued runs of a deleted job could never start (their version
// is gone with the job), so they are canceled in the same transaction, not left to fail later.
// Their run_queue rows are locked before the runs, the order claims take them in
// (0013_hot_queue.sql), so a claim racing this cannot deadlock with it.
const JOB_RUNS_CANCEL_QUEUED_SQL = `
UPDATE hostrun.runs SET status = 'canceled', finished_at = now(), cancel_requested_at = now(),
       error = 'canceled: job deleted'
 WHERE id IN (SELECT q.run_id FROM hostrun.run_queue q JOIN hostrun.runs r ON r.id = q.run_id
               WHERE r.job_id = (SELECT id FROM hostrun.jobs WHERE project_id = $1 AND name = $2)
                 FOR UPDATE OF q)
   AND status = 'queued'`;

/** Deletes a job; returns false when there was none by that name. */
export async function jobDelete(pool: Pool, projectId: string, name: string): Promise<boolean> {
  return withTransaction(pool, async (tx: PoolClient) => {
    // Cancel first: once the job row is gone its runs no longer point at it.
    await tx.query(JOB_RUNS_CANCEL_QUEUED_SQL, [projectId, name]);
    const { rowCount } = await tx.query(JOB_DELETE_BY_NAME_SQL, [projectId, name]);
    return (rowCount ?? 0) > 0;
  });
}

// name: jobSetEnabled
// $1 project id, $2 name, $3 enabled. A disabled job keeps its schedules but none fire, and
// it cannot be run by hand until enabled again. Returns was_enabled, the state before.
const JOB_SET_ENABLED_SQL = `
WITH old AS (
  SELECT id, enabled FROM hostrun.jobs WHERE project_id = $1 AND name = $2 FOR UPDATE
)
UPDATE hostrun.jobs j SET enabled = $3, updated_at = CASE WHEN old.enabled = $3 THEN j.updated_at ELSE now() END
  FROM old
 WHERE j.id = old.id
RETURNING j.id, j.project_id, j.name, j.description, j.spec, j.source, j.version, j.enabled, j.webhook_id,
          j.created_at, j.updated_at, old.enabled AS was_enabled`;

export async function jobSetEnabled(pool: Pool, projectId: string, name: string, enabled: boolean, now = new Date()): Promise<JobRow | null> {
  return withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<JobRow & { was_enabled: boolean }>(JOB_SET_ENABLED_SQL, [projectId, name, enabled]);
    const row = rows[0];
    if (!row) return null;
    const { was_enabled: wasEnabled, ...job } = row;
    // Fire times that passed while the job was off are not misfires to catch up on.
    if (enabled && !wasEnabled) await schedulesResumeForJob(tx, { jobId: job.id, now });
    return job;
  });
}
