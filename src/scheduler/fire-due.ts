// One scheduler pass: due schedules -> runs, in one transaction.
//
// Exactly once per (schedule, fire time), however many schedulers run, without a leader:
// - A pass locks the due rows it takes (FOR UPDATE OF s SKIP LOCKED): two schedulers never
//   work on one schedule at the same moment, and neither waits for the other.
// - It moves next_fire_at past `now` in the same transaction that creates the runs. A
//   scheduler whose snapshot still showed the old value re-checks the WHERE clause on the
//   committed row when it locks it (READ COMMITTED), sees the schedule no longer due, and
//   leaves it.
// - Should anything still slip through (a clock that disagrees, a row edited by hand), the
//   unique index runs (schedule_id, fire_at) turns a second insert into a no-op
//   (runsEnqueue's ON CONFLICT DO NOTHING).

import type { Pool, PoolClient } from '../db/pool.ts';
import { withTransaction } from '../db/pool.ts';
import type { InputValue, JobSpec } from '../core/types.ts';
import type { ScheduleTiming } from '../core/cron.ts';
// validateRunInputs is to be re-exported by core/spec.ts; inputs.ts is where it lives.
import { validateRunInputs } from '../core/inputs.ts';
import { runShape, runsEnqueue, type EnqueueRequest } from '../queue/enqueue.ts';
import { planFires, type FirePlan, type MisfirePolicy } from './fire-plan.ts';

export interface SchedulerLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

interface DueSchedule {
  id: string;
  project_id: string;
  job_id: string;
  cron: string | null;
  every_seconds: number | null;
  timezone: string;
  inputs: Record<string, InputValue>;
  misfire_policy: MisfirePolicy;
  anchor_at: Date;
  next_fire_at: Date;
  job_name: string;
  job_version: number;
  job_spec: JobSpec;
}

const SCHEDULES_CLAIM_DUE_SQL = `
-- name: schedulesClaimDue
-- $1 now, $2 batch size, $3 NULL or a time the fire times taken must be after (a pass ahead of
-- a fire time takes only what is due at it, not what is overdue). Due schedules of enabled jobs,
-- oldest fire time first, locked for this transaction; rows another scheduler holds are
-- skipped, not waited for.
SELECT s.id, s.project_id, s.job_id, s.cron, s.every_seconds, s.timezone, s.inputs, s.misfire_policy,
       s.anchor_at, s.next_fire_at, j.name AS job_name, j.version AS job_version, j.spec AS job_spec
  FROM hostrun.schedules s
  JOIN hostrun.jobs j ON j.id = s.job_id
 WHERE s.enabled AND j.enabled AND s.next_fire_at <= $1 AND ($3::timestamptz IS NULL OR s.next_fire_at > $3)
 ORDER BY s.next_fire_at
 LIMIT $2
   FOR UPDATE OF s SKIP LOCKED`;

const SCHEDULES_ADVANCE_SQL = `
-- name: schedulesAdvance
-- Parallel arrays, one element per schedule taken in this pass: $1 ids, $2 next fire times
-- (NULL: never again, or parked until the spec is re-applied), $3 latest fire time a run was
-- created for (NULL: keep last_fire_at as it is).
UPDATE hostrun.schedules s
   SET next_fire_at = u.next_fire_at,
       last_fire_at = greatest(s.last_fire_at, u.last_fire_at)
  FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS u(id, next_fire_at, last_fire_at)
 WHERE s.id = u.id`;

const SCHEDULES_EARLIEST_DUE_SQL = `
-- name: schedulesEarliestDue
-- No parameters. The next moment any schedule of an enabled job becomes due; walks
-- schedules_due_idx in order and stops at the first row whose job is enabled.
SELECT s.next_fire_at AS at
  FROM hostrun.schedules s
 WHERE s.enabled AND s.next_fire_at IS NOT NULL
   AND EXISTS (SELECT 1 FROM hostrun.jobs j WHERE j.id = s.job_id AND j.enabled)
 ORDER BY s.next_fire_at
 LIMIT 1`;

export async function schedulesEarliestDue(pool: Pool): Promise<Date | null> {
  const { rows } = await pool.query<{ at: Date }>(SCHEDULES_EARLIEST_DUE_SQL);
  return rows[0]?.at ?? null;
}

interface Advance {
  id: string;
  nextFireAt: Date | null;
  lastFireAt: Date | null;
}

interface Pending {
  schedule: DueSchedule;
  requests: EnqueueRequest[];
  advance: Advance;
}

export interface PassResult {
  /** Due schedules this pass took (at most the batch size). */
  claimed: number;
  /** Runs created. */
  created: number;
  /** A schedule is still due after this pass (`all` stopped at its per-pass bound). */
  backlog: boolean;
}

function errorInfo(err: unknown): { code?: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return { ...(typeof e.code === 'string' ? { code: e.code } : {}), message: typeof e.message === 'string' ? e.message : String(err) };
}

/**
 * Turns one due schedule into run requests. A schedule that cannot fire (its job's spec or
 * inputs no longer fit) still moves on to its next fire time: one bad row must not come back
 * on every pass, nor hold up the others.
 */
function planSchedule(s: DueSchedule, now: Date, ahead: boolean, plans: Map<string, FirePlan>, logger: SchedulerLogger): Pending | Advance {
  const timing: ScheduleTiming = { cron: s.cron, everySeconds: s.every_seconds, timezone: s.timezone, anchorAt: s.anchor_at };
  let plan;
  try {
    // planFires is pure, and schedules due together mostly share their timing ("0 * * * *" in
    // one time zone): each distinct plan is worked out once per pass. Cron arithmetic was most
    // of the scheduler's CPU time (a profile under scenario D: 10,000 schedules due at once).
    // The anchor only places interval schedules; cron schedules made at different times share.
    const anchor = s.every_seconds === null ? '' : s.anchor_at.getTime();
    const key = [s.cron, s.every_seconds, s.timezone, anchor, s.misfire_policy, s.next_fire_at.getTime()].join('\u0000');
    plan = plans.get(key);
    if (!plan) {
      plan = planFires(timing, s.misfire_policy, s.next_fire_at, now);
      plans.set(key, plan);
    }
  } catch (err) {
    // Only a row written around schedulesSyncForJob gets here (it validates every expression).
    // Parked with no next fire time until the job is applied again.
    logger.error({ scheduleId: s.id, job: s.job_name, err: errorInfo(err) }, 'schedule has an unreadable timing; parked');
    return { id: s.id, nextFireAt: null, lastFireAt: null };
  }
  const advance: Advance = { id: s.id, nextFireAt: plan.nextFireAt, lastFireAt: plan.fireTimes.at(-1) ?? null };
  if (plan.fireTimes.length === 0) return advance;
  try {
    // The schedule's inputs over the job's defaults, checked as a run started by hand would be.
    const inputs = validateRunInputs(s.job_spec, s.inputs);
    const job = { id: s.job_id, name: s.job_name, version: s.job_version, spec: s.job_spec };
    const requests: EnqueueRequest[] = plan.fireTimes.map((fireAt) => ({
      projectId: s.project_id,
      job,
      inputs,
      trigger: 'schedule',
      scheduleId: s.id,
      fireAt,
      // A pass ahead of the fire time inserts the run before it: no worker may take it early.
      // A pass at or after it queues the run from now, as any other (a backfill's runs do not
      // jump ahead of runs queued while the scheduler was down).
      ...(ahead ? { runAfter: fireAt } : {}),
    }));
    // Every request of one schedule has the same shape; checking one here keeps a spec that
    // cannot be queued (e.g. a concurrency group that does not interpolate) out of the batch.
    runShape(requests[0]!);
    return { schedule: s, requests, advance };
  } catch (err) {
    logger.error(
      { scheduleId: s.id, job: s.job_name, fireTimes: plan.fireTimes.length, err: errorInfo(err) },
      'scheduled run not created: the job cannot run with these inputs',
    );
    return { ...advance, lastFireAt: null };
  }
}

/**
 * Inserts every schedule's runs in one statement. Should that fail, the statement is undone
 * (savepoint) and each schedule is tried alone, so one bad row cannot stop the rest.
 */
async function enqueueIsolated(tx: PoolClient, pending: Pending[], logger: SchedulerLogger): Promise<number> {
  if (pending.length === 0) return 0;
  await tx.query('SAVEPOINT fire_batch');
  try {
    const ids = await runsEnqueue(tx, pending.flatMap((p) => p.requests));
    await tx.query('RELEASE SAVEPOINT fire_batch');
    return ids.length;
  } catch (batchErr) {
    await tx.query('ROLLBACK TO SAVEPOINT fire_batch');
    logger.error({ schedules: pending.length, err: errorInfo(batchErr) }, 'batched insert of scheduled runs failed; retrying one schedule at a time');
  }
  let created = 0;
  for (const p of pending) {
    await tx.query('SAVEPOINT fire_one');
    try {
      created += (await runsEnqueue(tx, p.requests)).length;
      await tx.query('RELEASE SAVEPOINT fire_one');
    } catch (err) {
      await tx.query('ROLLBACK TO SAVEPOINT fire_one');
      p.advance.lastFireAt = null;
      logger.error({ scheduleId: p.schedule.id, job: p.schedule.job_name, err: errorInfo(err) }, 'scheduled runs not created');
    }
  }
  return created;
}

interface PassOptions {
  now: Date;
  batchSize: number;
  maxRuns: number;
  logger: SchedulerLogger;
}

/**
 * One pass over at most `batchSize` due schedules at `now`, creating at most `maxRuns` runs
 * (never fewer than one schedule's runs, so a backfill of MAX_FIRES_PER_PASS always moves on).
 */
export async function schedulesFireDue(pool: Pool, opts: PassOptions): Promise<PassResult> {
  return withTransaction(pool, (tx) => firePass(tx, opts, null));
}

/**
 * A pass ahead of fire time `fireAt`, started shortly before it: takes the schedules due at
 * `fireAt` (none overdue: those are for schedulesFireDue), batch after batch while the
 * scheduler's clock is before `fireAt`, inserts their runs, and commits once the database's
 * clock reaches `fireAt`. So the runs of thousands of schedules sharing a fire time become
 * visible together at that time, instead of over the seconds inserting them takes after it
 * (bench scenario D). The schedules taken stay locked until the commit: a pause or an edit of
 * one of them in those moments waits for it, and applies from the next fire time. Returns
 * how many schedules were taken (0: none was left to take, another scheduler has them).
 */
export async function schedulesFireAhead(
  pool: Pool,
  opts: Omit<PassOptions, 'now'> & { fireAt: Date; clock: { now(): Date } },
): Promise<number> {
  const { fireAt, clock } = opts;
  return withTransaction(pool, async (tx) => {
    const after = clock.now();
    let claimed = 0;
    let created = 0;
    // Bounded: every pass advances the schedules it took past fireAt, so none is taken twice.
    while (clock.now().getTime() < fireAt.getTime()) {
      const pass = await firePass(tx, { ...opts, now: fireAt }, after);
      claimed += pass.claimed;
      created += pass.created;
      if (pass.claimed < opts.batchSize && !pass.backlog) break;
    }
    if (created > 0) {
      // The database's clock, which the runs' fire_at and every claim's now() are on.
      await tx.query(`SELECT pg_sleep(greatest(0, extract(epoch FROM $1::timestamptz - clock_timestamp())))`, [fireAt]);
    }
    return claimed;
  });
}

async function firePass(tx: PoolClient, opts: PassOptions, after: Date | null): Promise<PassResult> {
  const { now, batchSize, maxRuns, logger } = opts;
  const due = await tx.query<DueSchedule>(SCHEDULES_CLAIM_DUE_SQL, [now, batchSize, after]);
  if (due.rows.length === 0) return { claimed: 0, created: 0, backlog: false };

  const pending: Pending[] = [];
  const advances: Advance[] = [];
  const plans = new Map<string, FirePlan>();
  let runs = 0;
  let deferred = false;
  for (const s of due.rows) {
    const planned = planSchedule(s, now, after !== null, plans, logger);
    if ('requests' in planned) {
      // Over the run budget: this schedule and the rest stay due, unchanged, for the next
      // pass (their locks go with this transaction). The budget bounds one INSERT; the batch
      // alone would allow batchSize × MAX_FIRES_PER_PASS runs of backfill.
      if (pending.length > 0 && runs + planned.requests.length > maxRuns) {
        deferred = true;
        break;
      }
      runs += planned.requests.length;
      pending.push(planned);
      advances.push(planned.advance);
    } else {
      advances.push(planned);
    }
  }
  const created = await enqueueIsolated(tx, pending, logger);
  await tx.query(SCHEDULES_ADVANCE_SQL, [
    advances.map((a) => a.id),
    advances.map((a) => a.nextFireAt),
    advances.map((a) => a.lastFireAt),
  ]);
  if (created > 0) logger.info({ schedules: pending.length, runs: created }, 'scheduled runs created');
  const backlog = deferred || advances.some((a) => a.nextFireAt !== null && a.nextFireAt.getTime() <= now.getTime());
  return { claimed: advances.length, created, backlog };
}
