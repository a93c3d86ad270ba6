import {
  describeSchedule,
  nextFireTime,
  parseEvery,
  validateCron,
  validateTimezone,
  type MisfirePolicy,
  type ScheduleTiming,
} from '../core/cron.ts';
import { SpecError } from '../core/errors.ts';
import type { InputValue, ScheduleSpec } from '../core/types.ts';
import type { Queryable } from './pool.ts';

// Schedules: the definitions side (synced from job specs, listed, paused and resumed).
// The firing side (due schedules -> runs) is src/scheduler/.
//
// Invariants kept here:
// - next_fire_at is a fire time of the schedule, or NULL while the schedule is paused (or can
//   never fire again, or the scheduler parked it because its timing could not be read; the next
//   apply sets it again). The scheduler only looks at enabled rows with next_fire_at <= now.
// - Re-applying a spec keeps next_fire_at (and an interval's anchor) unless the timing itself
//   changed, so an unrelated edit to a job neither skips nor repeats a fire time.
// - Resuming (by API or by spec) recomputes next_fire_at from now: a pause is not backfilled.
// - Every change that can move a fire time NOTIFYs hostrun_schedules, so sleeping schedulers
//   look again at once instead of at their next poll.

export interface ScheduleRow {
  id: string;
  project_id: string;
  job_id: string;
  job_name: string;
  /** A schedule of a disabled job does not fire even when the schedule itself is enabled. */
  job_enabled: boolean;
  /** Position in the job spec's schedule list; null for schedules not declared in a spec. */
  spec_index: number | null;
  cron: string | null;
  every_seconds: number | null;
  timezone: string;
  inputs: Record<string, InputValue>;
  enabled: boolean;
  misfire_policy: MisfirePolicy;
  anchor_at: Date;
  next_fire_at: Date | null;
  last_fire_at: Date | null;
  created_at: Date;
  updated_at: Date;
  /** The schedule in words: `At 02:30 every day, Europe/Berlin`. */
  description: string;
}

const SCHEDULE_COLUMNS = `s.id, s.project_id, s.job_id, j.name AS job_name, j.enabled AS job_enabled, s.spec_index,
       s.cron, s.every_seconds, s.timezone, s.inputs, s.enabled, s.misfire_policy, s.anchor_at,
       s.next_fire_at, s.last_fire_at, s.created_at, s.updated_at`;

export function scheduleTiming(row: Pick<ScheduleRow, 'cron' | 'every_seconds' | 'timezone' | 'anchor_at'>): ScheduleTiming {
  return { cron: row.cron, everySeconds: row.every_seconds, timezone: row.timezone, anchorAt: row.anchor_at };
}

function withDescription(row: Omit<ScheduleRow, 'description'>): ScheduleRow {
  return { ...row, description: describeSchedule(scheduleTiming(row)) };
}

// Intervals are anchored on a whole second, so their fire times read as cleanly as cron's.
function wholeSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

const SCHEDULES_LOCK_FOR_JOB_SQL = `
-- name: schedulesLockForJob
-- $1 job id. The job's spec-declared schedules, locked for the rest of the apply so a scheduler
-- (SKIP LOCKED) cannot fire one while its timing is being replaced.
SELECT spec_index, cron, every_seconds, timezone, enabled, anchor_at, next_fire_at
  FROM hostrun.schedules
 WHERE job_id = $1 AND spec_index IS NOT NULL
   FOR UPDATE`;

const SCHEDULES_UPSERT_FOR_JOB_SQL = `
-- name: schedulesUpsertForJob
-- $1 project id, $2 job id, then parallel arrays, one element per schedule: $3 spec_index,
-- $4 cron, $5 every_seconds, $6 timezone, $7 inputs (jsonb), $8 enabled, $9 misfire_policy,
-- $10 anchor_at, $11 next_fire_at. updated_at moves only when something actually changed.
INSERT INTO hostrun.schedules AS s (project_id, job_id, spec_index, cron, every_seconds, timezone, inputs, enabled,
                                   misfire_policy, anchor_at, next_fire_at)
SELECT $1, $2, u.spec_index, u.cron, u.every_seconds, u.timezone, u.inputs, u.enabled, u.misfire_policy,
       u.anchor_at, u.next_fire_at
  FROM unnest($3::int[], $4::text[], $5::int[], $6::text[], $7::jsonb[], $8::boolean[], $9::text[],
              $10::timestamptz[], $11::timestamptz[])
       AS u(spec_index, cron, every_seconds, timezone, inputs, enabled, misfire_policy, anchor_at, next_fire_at)
ON CONFLICT ON CONSTRAINT schedules_job_spec_index_key DO UPDATE
   SET cron = EXCLUDED.cron, every_seconds = EXCLUDED.every_seconds, timezone = EXCLUDED.timezone,
       inputs = EXCLUDED.inputs, enabled = EXCLUDED.enabled, misfire_policy = EXCLUDED.misfire_policy,
       anchor_at = EXCLUDED.anchor_at, next_fire_at = EXCLUDED.next_fire_at,
       updated_at = CASE
         WHEN (s.cron, s.every_seconds, s.timezone, s.inputs, s.enabled, s.misfire_policy, s.anchor_at, s.next_fire_at)
              IS DISTINCT FROM
              (EXCLUDED.cron, EXCLUDED.every_seconds, EXCLUDED.timezone, EXCLUDED.inputs, EXCLUDED.enabled,
               EXCLUDED.misfire_policy, EXCLUDED.anchor_at, EXCLUDED.next_fire_at)
         THEN now() ELSE s.updated_at END`;

const SCHEDULES_DELETE_FROM_INDEX_SQL = `
-- name: schedulesDeleteFromIndex
-- $1 job id, $2 first spec_index no longer in the spec. Runs keep their history
-- (runs.schedule_id is ON DELETE SET NULL).
DELETE FROM hostrun.schedules WHERE job_id = $1 AND spec_index >= $2`;

const SCHEDULES_NOTIFY_SQL = `
-- name: schedulesNotify
-- No parameters. Inside a transaction the notification is delivered at COMMIT, and only then.
SELECT pg_notify('hostrun_schedules', '')`;

interface LockedSchedule {
  spec_index: number;
  cron: string | null;
  every_seconds: number | null;
  timezone: string;
  enabled: boolean;
  anchor_at: Date;
  next_fire_at: Date | null;
}

/** A ScheduleSpec as columns; throws SpecError naming `schedules[i].<field>` when it does not validate. */
function scheduleColumns(spec: ScheduleSpec, index: number, now: Date) {
  const fail = (field: string | null, err: unknown): never => {
    const message = err instanceof Error ? err.message : String(err);
    throw new SpecError(`schedules[${index}]: ${message}`, [{ path: `schedules[${index}]${field ? `.${field}` : ''}`, message }]);
  };
  const timezone = spec.timezone ?? 'UTC';
  const hasCron = spec.cron !== undefined && spec.cron !== '';
  const hasEvery = spec.every !== undefined && spec.every !== '';
  if (hasCron === hasEvery) fail(null, 'a schedule needs exactly one of cron and every');
  try {
    validateTimezone(timezone);
  } catch (err) {
    fail('timezone', err);
  }
  let everySeconds: number | null = null;
  try {
    if (hasCron) validateCron(spec.cron!, timezone, now);
    else everySeconds = parseEvery(spec.every!);
  } catch (err) {
    fail(hasCron ? 'cron' : 'every', err);
  }
  return {
    cron: hasCron ? spec.cron!.trim() : null,
    every_seconds: everySeconds,
    timezone,
    inputs: spec.inputs ?? {},
    enabled: spec.enabled !== false,
    misfire_policy: spec.misfire ?? 'once',
  };
}

/**
 * Makes the job's schedules match its spec, inside the caller's transaction (job apply): one
 * row per position in `schedules`, updated in place; rows past the end of the list are deleted.
 * A schedule keeps its next_fire_at when its cron/interval and time zone did not change, and
 * gets a fresh one (the first fire time after `now`) when they did or when it is re-enabled.
 * `enabled` follows the spec, so applying a spec undoes a pause made with scheduleSetEnabled.
 */
export async function schedulesSyncForJob(
  db: Queryable,
  args: { projectId: string; jobId: string; schedules: ScheduleSpec[]; now: Date },
): Promise<void> {
  const { projectId, jobId, schedules, now } = args;
  const wanted = schedules.map((spec, i) => scheduleColumns(spec, i, now));
  const locked = await db.query<LockedSchedule>(SCHEDULES_LOCK_FOR_JOB_SQL, [jobId]);
  const existing = new Map(locked.rows.map((r) => [r.spec_index, r]));

  const cols = {
    specIndex: [] as number[],
    cron: [] as (string | null)[],
    every: [] as (number | null)[],
    timezone: [] as string[],
    inputs: [] as string[],
    enabled: [] as boolean[],
    misfire: [] as string[],
    anchorAt: [] as Date[],
    nextFireAt: [] as (Date | null)[],
  };
  wanted.forEach((w, i) => {
    const old = existing.get(i);
    // An interval keeps its anchor while its length is unchanged, so its fire times stay put.
    const anchorAt = old && old.every_seconds === w.every_seconds ? old.anchor_at : wholeSecond(now);
    const sameTiming = old !== undefined && old.cron === w.cron && old.every_seconds === w.every_seconds && old.timezone === w.timezone;
    let nextFireAt: Date | null = null;
    if (w.enabled) {
      nextFireAt =
        sameTiming && old.enabled && old.next_fire_at !== null
          ? old.next_fire_at
          : nextFireTime({ cron: w.cron, everySeconds: w.every_seconds, timezone: w.timezone, anchorAt }, now);
    }
    cols.specIndex.push(i);
    cols.cron.push(w.cron);
    cols.every.push(w.every_seconds);
    cols.timezone.push(w.timezone);
    cols.inputs.push(JSON.stringify(w.inputs));
    cols.enabled.push(w.enabled);
    cols.misfire.push(w.misfire_policy);
    cols.anchorAt.push(anchorAt);
    cols.nextFireAt.push(nextFireAt);
  });

  if (wanted.length > 0) {
    await db.query(SCHEDULES_UPSERT_FOR_JOB_SQL, [
      projectId,
      jobId,
      cols.specIndex,
      cols.cron,
      cols.every,
      cols.timezone,
      cols.inputs,
      cols.enabled,
      cols.misfire,
      cols.anchorAt,
      cols.nextFireAt,
    ]);
  }
  await db.query(SCHEDULES_DELETE_FROM_INDEX_SQL, [jobId, wanted.length]);
  await db.query(SCHEDULES_NOTIFY_SQL);
}

const SCHEDULES_LIST_SQL = `
-- name: schedulesList
-- $1 project id, $2 job id or NULL for every job of the project.
SELECT ${SCHEDULE_COLUMNS}
  FROM hostrun.schedules s
  JOIN hostrun.jobs j ON j.id = s.job_id
 WHERE s.project_id = $1 AND ($2::uuid IS NULL OR s.job_id = $2::uuid)
 ORDER BY j.name, s.spec_index NULLS LAST, s.created_at`;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A project's schedules (or one job's), by job name then position, each described in words. */
export async function schedulesList(db: Queryable, args: { projectId: string; jobId?: string }): Promise<ScheduleRow[]> {
  // Anything that is not a uuid names no job; asking Postgres would be a type error instead.
  if (args.jobId !== undefined && !UUID_PATTERN.test(args.jobId)) return [];
  const { rows } = await db.query<Omit<ScheduleRow, 'description'>>(SCHEDULES_LIST_SQL, [args.projectId, args.jobId ?? null]);
  return rows.map(withDescription);
}

const SCHEDULE_GET_SQL = `
-- name: scheduleGet
-- $1 project id, $2 schedule id.
SELECT ${SCHEDULE_COLUMNS}
  FROM hostrun.schedules s
  JOIN hostrun.jobs j ON j.id = s.job_id
 WHERE s.project_id = $1 AND s.id = $2`;

export async function scheduleGet(db: Queryable, projectId: string, id: string): Promise<ScheduleRow | null> {
  if (!UUID_PATTERN.test(id)) return null;
  const { rows } = await db.query<Omit<ScheduleRow, 'description'>>(SCHEDULE_GET_SQL, [projectId, id]);
  return rows[0] ? withDescription(rows[0]) : null;
}

const SCHEDULE_TIMING_GET_SQL = `
-- name: scheduleTimingGet
-- $1 schedule id. What resuming needs to compute the next fire time.
SELECT cron, every_seconds, timezone, anchor_at FROM hostrun.schedules WHERE id = $1`;

const SCHEDULE_SET_ENABLED_SQL = `
-- name: scheduleSetEnabled
-- $1 schedule id, $2 enabled, $3 next fire time after now (used only when this resumes it),
-- $4 the cron, $5 every_seconds and $6 time zone $3 was computed for. Pausing clears
-- next_fire_at; resuming sets it from now, so the paused stretch is not backfilled; setting
-- the state it already has changes nothing. If an apply changed the timing in between, the
-- guard keeps the apply's next_fire_at rather than one computed for the old timing.
WITH u AS (
  UPDATE hostrun.schedules s
     SET enabled = $2,
         next_fire_at = CASE
           WHEN NOT $2 THEN NULL
           WHEN s.enabled THEN s.next_fire_at
           WHEN (s.cron, s.every_seconds, s.timezone) IS NOT DISTINCT FROM ($4::text, $5::int, $6::text) THEN $3::timestamptz
           ELSE s.next_fire_at END,
         updated_at = CASE WHEN s.enabled = $2 THEN s.updated_at ELSE now() END
   WHERE s.id = $1
  RETURNING s.*
)
SELECT ${SCHEDULE_COLUMNS}
  FROM u s
  JOIN hostrun.jobs j ON j.id = s.job_id`;

/**
 * Pauses or resumes one schedule; null when there is no such schedule. The caller checks the
 * schedule belongs to the caller's project first (scheduleGet).
 */
export async function scheduleSetEnabled(db: Queryable, id: string, enabled: boolean, now: Date): Promise<ScheduleRow | null> {
  if (!UUID_PATTERN.test(id)) return null;
  const timing = await db.query<Pick<ScheduleRow, 'cron' | 'every_seconds' | 'timezone' | 'anchor_at'>>(SCHEDULE_TIMING_GET_SQL, [id]);
  const current = timing.rows[0];
  if (!current) return null;
  const next = enabled ? nextFireTime(scheduleTiming(current), now) : null;
  const { rows } = await db.query<Omit<ScheduleRow, 'description'>>(SCHEDULE_SET_ENABLED_SQL, [
    id,
    enabled,
    next,
    current.cron,
    current.every_seconds,
    current.timezone,
  ]);
  await db.query(SCHEDULES_NOTIFY_SQL);
  return rows[0] ? withDescription(rows[0]) : null;
}

const SCHEDULES_FOR_JOB_SQL = `
-- name: schedulesForJobEnabled
-- $1 job id. The job's enabled schedules, locked, for schedulesResumeForJob.
SELECT id, cron, every_seconds, timezone, anchor_at
  FROM hostrun.schedules
 WHERE job_id = $1 AND enabled
   FOR UPDATE`;

const SCHEDULES_SET_NEXT_FIRE_SQL = `
-- name: schedulesSetNextFire
-- $1 schedule ids, $2 their next fire times (parallel arrays).
UPDATE hostrun.schedules s SET next_fire_at = u.next_fire_at
  FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, next_fire_at)
 WHERE s.id = u.id`;

/**
 * Moves every enabled schedule of a job to its first fire time after `now`. For enabling a
 * disabled job: without it, the fire times missed while the job was off would count as
 * misfires and (policy `once`, `all`) run at once. Call inside the enabling transaction.
 */
export async function schedulesResumeForJob(db: Queryable, args: { jobId: string; now: Date }): Promise<void> {
  const { rows } = await db.query<{ id: string } & Pick<ScheduleRow, 'cron' | 'every_seconds' | 'timezone' | 'anchor_at'>>(
    SCHEDULES_FOR_JOB_SQL,
    [args.jobId],
  );
  if (rows.length === 0) return;
  const next = rows.map((r) => nextFireTime(scheduleTiming(r), args.now));
  await db.query(SCHEDULES_SET_NEXT_FIRE_SQL, [rows.map((r) => r.id), next]);
  await db.query(SCHEDULES_NOTIFY_SQL);
}

/**
 * The next `n` times a schedule fires, starting with its next_fire_at; empty while paused.
 * `now` is only used for a schedule that has no next_fire_at yet.
 */
export function scheduleNextFireTimes(
  row: Pick<ScheduleRow, 'cron' | 'every_seconds' | 'timezone' | 'anchor_at' | 'enabled' | 'next_fire_at'>,
  n: number,
  now: Date = new Date(),
): Date[] {
  if (!row.enabled || n <= 0) return [];
  const timing = scheduleTiming(row);
  const out: Date[] = [];
  let t: Date | null = row.next_fire_at ?? nextFireTime(timing, now);
  while (t !== null && out.length < n) {
    out.push(t);
    t = nextFireTime(timing, t);
  }
  return out;
}
