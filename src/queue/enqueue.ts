import pg from 'pg';
import { withTransaction, type Pool, type Queryable } from '../db/pool.ts';
import { Batcher } from './batcher.ts';
import type { InputValue, JobSpec, RunTrigger } from '../core/types.ts';
import { interpolateText } from '../core/expressions.ts';

/** GitHub Actions' default: a job that hangs is stopped after six hours. */
export const DEFAULT_TIMEOUT_MINUTES = 360;

export interface EnqueueRequest {
  projectId: string;
  /** id null: a run that belongs to no stored job (a host test); its spec is kept on the run. */
  job: { id: string | null; name: string; version: number; spec: JobSpec };
  /** Already validated against the job's inputs (core/spec validateRunInputs). */
  inputs: Record<string, InputValue>;
  trigger: RunTrigger;
  scheduleId?: string;
  fireAt?: Date;
  priority?: number;
  runAfter?: Date;
  createdBy?: string;
  parentRunId?: number;
}

/** What enqueue decides per row beyond the request: fan-out parents and children. */
interface RowOverrides {
  target?: string;
  status?: 'running';
  concurrency?: { key: string | null; max: number | null };
  parentRunId?: number;
  schedule?: false;
}

interface RunRow {
  target: string;
  labels: string[];
  maxAttempts: number;
  concurrencyKey: string | null;
  concurrencyMax: number | null;
  timeoutSeconds: number;
}

/** What the queue needs to know about a run, derived from its job's spec and inputs. */
export function runShape(req: EnqueueRequest): RunRow {
  const { spec } = req.job;
  const runsOn = spec.runsOn;
  const target = runsOn.kind === 'local' ? 'local' : runsOn.kind === 'host' ? runsOn.name : `labels:${runsOn.labels.join(',')}`;
  const concurrencyKey = spec.concurrency
    ? `${req.projectId}:${interpolateText(spec.concurrency.group, {
        inputs: req.inputs,
        job: { name: spec.name },
      })}`
    : null;
  return {
    target,
    // `runs-on: { labels }` selects hosts (fan-out), not workers: any worker may run a child.
    // runs.labels stays for workers that must match (agents, which hold no database access).
    labels: [],
    maxAttempts: 1 + spec.retries.max,
    concurrencyKey,
    concurrencyMax: spec.concurrency ? spec.concurrency.max : null,
    timeoutSeconds: Math.round((spec.timeoutMinutes ?? DEFAULT_TIMEOUT_MINUTES) * 60),
  };
}

// name: runsEnqueue
// One INSERT for any number of runs: hostrun.enqueue_runs (migrations/0012_enqueue_function.sql)
// takes twenty parallel arrays, one element per run, and returns the ids of the runs actually
// created, in request order (a schedule's fire time already on record is skipped). A function,
// so each connection plans the INSERT once instead of on every enqueue.
const ENQUEUE_SQL = `
SELECT run_id AS id FROM hostrun.enqueue_runs($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::uuid[],
  $7::timestamptz[], $8::jsonb[], $9::text[], $10::jsonb[], $11::int[], $12::int[], $13::timestamptz[], $14::text[],
  $15::int[], $16::int[], $17::uuid[], $18::bigint[], $19::jsonb[], $20::hostrun.run_status[])`;

export async function runsEnqueue(db: Queryable, requests: EnqueueRequest[]): Promise<number[]> {
  if (requests.length === 0) return [];
  if (!requests.some((r) => r.job.spec.runsOn.kind === 'labels')) return runsInsert(db, requests.map((r) => [r, {}]));
  // A fan-out writes its parent, then the children that name it: one transaction.
  return db instanceof pg.Pool ? withTransaction(db, (tx) => enqueueWithFanout(tx, requests)) : enqueueWithFanout(db, requests);
}

// Concurrent single-run enqueues (API calls, webhooks) share one INSERT, as completions do:
// while one statement is in flight the next calls wait and go together. Each statement is one
// commit that NOTIFYs hostrun_queue, and PostgreSQL commits notifying transactions one at a
// time (migrations/0007_quiet_transitions.sql), so one statement per call capped enqueues at a
// few hundred to ~1,100 per second whatever the pool size. One batcher per pool.
const enqueueBatchers = new WeakMap<Pool, Batcher<EnqueueRequest, number | Error>>();
const MAX_ENQUEUE_BATCH = 500;

/**
 * Enqueues one run, sharing the statement with concurrent callers on the same pool; resolves
 * to its id once committed. A fan-out or a schedule's fire (which may be skipped as already
 * fired) goes alone through runsEnqueue. A failed shared statement is retried one run at a time,
 * so one bad request fails only its own caller.
 */
export async function runEnqueue(pool: Pool, req: EnqueueRequest): Promise<number | undefined> {
  if (req.job.spec.runsOn.kind === 'labels' || req.scheduleId !== undefined) return (await runsEnqueue(pool, [req]))[0];
  let batcher = enqueueBatchers.get(pool);
  if (!batcher) {
    batcher = new Batcher({ maxBatch: MAX_ENQUEUE_BATCH, flush: (reqs) => enqueueShared(pool, reqs) });
    enqueueBatchers.set(pool, batcher);
  }
  const id = await batcher.add(req);
  if (id instanceof Error) throw id;
  return id;
}

async function enqueueShared(pool: Pool, reqs: EnqueueRequest[]): Promise<(number | Error)[]> {
  let ids: number[];
  try {
    ids = await runsInsert(pool, reqs.map((r) => [r, {}]));
  } catch (err) {
    if (reqs.length === 1) return [err as Error];
    return Promise.all(reqs.map((r) => runsInsert(pool, [[r, {}]]).then((one) => one[0]!, (err: Error) => err)));
  }
  // Without a schedule nothing is skipped: every request has its row, in request order.
  return reqs.map((_, i) => ids[i] ?? new Error('the run was not created'));
}

// name: hostsWithLabels — $1 project, $2 labels. The hosts a labels run fans out to.
const HOSTS_WITH_LABELS_SQL = `
SELECT name FROM hostrun.hosts WHERE project_id = $1 AND labels @> $2 ORDER BY name`;

/**
 * `runs-on: { labels }`: a parent run, created `running` (it has no process of its own; the
 * runs_summarise_parents trigger ends it), and one child per matching host. `max-parallel`
 * is a concurrency group of the children; without it they all go at once (the job's own
 * concurrency group, if any, then applies to each child). With no matching host the run is
 * queued alone and fails, saying so.
 */
async function enqueueWithFanout(db: Queryable, requests: EnqueueRequest[]): Promise<number[]> {
  const ids: number[] = [];
  for (const req of requests) {
    const { runsOn } = req.job.spec;
    if (runsOn.kind !== 'labels') {
      ids.push(...(await runsInsert(db, [[req, {}]])));
      continue;
    }
    const { rows: hosts } = await db.query<{ name: string }>(HOSTS_WITH_LABELS_SQL, [req.projectId, runsOn.labels]);
    if (hosts.length === 0) {
      ids.push(...(await runsInsert(db, [[req, {}]])));
      continue;
    }
    const [parentId] = await runsInsert(db, [[req, { status: 'running', concurrency: { key: null, max: null } }]]);
    // A schedule's fire time already had its parent: nothing more to do.
    if (parentId === undefined) continue;
    ids.push(parentId);
    const maxParallel = req.job.spec.strategy?.maxParallel;
    const children: [EnqueueRequest, RowOverrides][] = hosts.map((h) => [
      req,
      {
        target: h.name,
        parentRunId: parentId,
        schedule: false,
        ...(maxParallel !== undefined && { concurrency: { key: `fanout:${parentId}`, max: maxParallel } }),
      },
    ]);
    await runsInsert(db, children);
  }
  return ids;
}

async function runsInsert(db: Queryable, items: [EnqueueRequest, RowOverrides][]): Promise<number[]> {
  const cols: unknown[][] = Array.from({ length: 20 }, () => []);
  for (const [req, o] of items) {
    const shape = runShape(req);
    const values = [
      req.projectId,
      req.job.id,
      req.job.name,
      req.job.version,
      req.trigger,
      o.schedule === false ? null : (req.scheduleId ?? null),
      o.schedule === false ? null : (req.fireAt ?? null),
      JSON.stringify(req.inputs),
      o.target ?? shape.target,
      JSON.stringify(shape.labels),
      req.priority ?? req.job.spec.priority,
      shape.maxAttempts,
      req.runAfter ?? null,
      o.concurrency ? o.concurrency.key : shape.concurrencyKey,
      o.concurrency ? o.concurrency.max : shape.concurrencyMax,
      shape.timeoutSeconds,
      req.createdBy ?? null,
      o.parentRunId ?? req.parentRunId ?? null,
      req.job.id === null ? JSON.stringify(req.job.spec) : null,
      o.status ?? 'queued',
    ];
    values.forEach((v, i) => cols[i]!.push(v));
  }
  const { rows } = await db.query<{ id: number }>(ENQUEUE_SQL, cols);
  return rows.map((r) => r.id);
}
