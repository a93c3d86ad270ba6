import type { Queryable } from '../db/pool.ts';
import type { RunStatus, StepStatus } from '../core/types.ts';

// The worker protocol, one function per SQL function of migrations/0002_queue.sql. Every
// write is fenced by (worker id, attempt): a worker whose lease was taken over writes nothing.

export interface ClaimedRun {
  id: number;
  project_id: string;
  job_id: string | null;
  job_name: string;
  job_version: number;
  trigger: string;
  inputs: Record<string, unknown>;
  target: string;
  priority: number;
  attempt: number;
  max_attempts: number;
  timeout_seconds: number | null;
  /** The spec of a run that belongs to no stored job (host tests, ad-hoc commands). */
  spec: unknown;
  /** Started in the same statement (it went straight into a free slot). */
  started: boolean;
  /** The last log sequence number already stored for the run (0 on a first attempt); null only before migration 0006. */
  log_seq: number | null;
}

// name: runsClaim — $1 worker, $2 labels, $3 limit, $4 lease seconds, $5 how many to start at once
export async function runsClaim(
  db: Queryable,
  args: { workerId: string; labels: string[]; limit: number; leaseSeconds: number; start: number },
): Promise<ClaimedRun[]> {
  // Only the columns a worker uses: each timestamp costs the driver a parse per run.
  const { rows } = await db.query<ClaimedRun>(
    `SELECT id, project_id, job_id, job_name, job_version, trigger, inputs, target, priority, attempt, max_attempts,
            timeout_seconds, spec, started, log_seq
       FROM hostrun.claim_runs($1, $2, $3, $4, $5)`,
    [args.workerId, args.labels, args.limit, args.leaseSeconds, args.start],
  );
  // claim_runs returns rows in no particular order; start them in claim order.
  return rows.sort((a, b) => b.priority - a.priority || a.id - b.id);
}

// name: runsStart — $1 worker, $2 ids, $3 attempts. Returns id -> last stored log seq.
export async function runsStart(db: Queryable, workerId: string, runs: { id: number; attempt: number }[]): Promise<Map<number, number>> {
  const { rows } = await db.query<{ id: number; log_seq: number }>(`SELECT id, log_seq FROM hostrun.start_runs($1, $2, $3)`, [
    workerId,
    runs.map((r) => r.id),
    runs.map((r) => r.attempt),
  ]);
  return new Map(rows.map((r) => [r.id, r.log_seq]));
}

export interface StepState {
  runId: number;
  attempt: number;
  idx: number;
  stepId: string;
  name: string;
  status: StepStatus;
  exitCode?: number | null;
  /** Epoch milliseconds (a Date costs more to write out as JSON than the rest of the state). */
  startedAt?: number | null;
  finishedAt?: number | null;
  outputs?: Record<string, string> | null;
  error?: string | null;
}

/** One step state as runs.steps holds it; JSON leaves out what is undefined (the readers take a missing key as null). */
function stepJson(s: StepState) {
  return {
    idx: s.idx,
    attempt: s.attempt,
    step_id: s.stepId,
    name: s.name,
    status: s.status,
    exit_code: s.exitCode ?? undefined,
    started_at: s.startedAt ?? undefined,
    finished_at: s.finishedAt ?? undefined,
    outputs: s.outputs ?? undefined,
    error: s.error ?? undefined,
  };
}

/** One run's step states in the JSON form runs.steps holds (hostrun.upsert_run_steps). */
export function stepsToJson(states: StepState[]): string {
  return JSON.stringify(states.map(stepJson));
}

export interface Completion {
  id: number;
  attempt: number;
  status: Extract<RunStatus, 'succeeded' | 'failed' | 'timed_out' | 'canceled'>;
  exitCode: number | null;
  error: string | null;
  outputs: Record<string, unknown> | null;
  /** Seconds until another attempt, when the job has retries left; null for none. */
  retryInSeconds: number | null;
  /** The run's step states not written yet; they are written in the same statement. */
  steps?: StepState[];
  /** When the run started (epoch ms), if its start was never written (it is still `claimed`): written with the outcome. */
  startedAt?: number;
}

// name: runsComplete — $1 worker, $2 the runs as one JSON document (complete_runs_json).
// Returns id -> status after the call (`queued` when a retry was scheduled); runs missing from
// the answer were fenced off.
export async function runsComplete(db: Queryable, workerId: string, items: Completion[]): Promise<Map<number, RunStatus>> {
  // Keys left out (undefined) read as null: a shorter document is less for Postgres to parse.
  const batch = JSON.stringify(
    items.map((c) => ({
      id: c.id,
      attempt: c.attempt,
      status: c.status,
      exit_code: c.exitCode ?? undefined,
      error: c.error ?? undefined,
      outputs: c.outputs ?? undefined,
      retry_in: c.retryInSeconds ?? undefined,
      started_at: c.startedAt,
      steps: c.steps?.length ? c.steps.map(stepJson) : undefined,
    })),
  );
  const { rows } = await db.query<{ id: number; status: RunStatus }>(`SELECT id, status FROM hostrun.complete_runs_json($1, $2)`, [workerId, batch]);
  return new Map(rows.map((r) => [r.id, r.status]));
}

// name: runsRelease — $1 worker, $2 ids, $3 attempts
export async function runsRelease(db: Queryable, workerId: string, runs: { id: number; attempt: number }[]): Promise<number[]> {
  if (runs.length === 0) return [];
  const { rows } = await db.query<{ id: number }>(`SELECT id FROM hostrun.release_runs($1, $2, $3)`, [
    workerId,
    runs.map((r) => r.id),
    runs.map((r) => r.attempt),
  ]);
  return rows.map((r) => r.id);
}

export interface LogLine {
  runId: number;
  attempt: number;
  seq: number;
  stepIdx: number | null;
  stream: 'stdout' | 'stderr' | 'system';
  at: Date;
  /** Bytes of the line's UTF-8 text in the buffer passed with it. */
  length: number;
}

// name: logsAppend — $1–$6 the lines' run ids, attempts, seqs, step indexes, streams and times;
// $7/$8 byte offset and length of each line's text in $9, the texts as UTF-8 back to back.
// The texts go as one binary parameter: as a text[] the driver escapes ~1 MiB of output per
// flush and the server parses it back character by character (0008_packed_log_append.sql).
// Returns how many were stored (fenced lines are not).
export async function logsAppend(db: Queryable, lines: LogLine[], texts: Buffer): Promise<number> {
  const offsets: number[] = [];
  let offset = 0;
  for (const l of lines) {
    offsets.push(offset);
    offset += l.length;
  }
  const { rows } = await db.query<{ n: number }>(`SELECT hostrun.append_run_logs_packed($1, $2, $3, $4, $5, $6, $7, $8, $9) AS n`, [
    lines.map((l) => l.runId),
    lines.map((l) => l.attempt),
    lines.map((l) => l.seq),
    lines.map((l) => l.stepIdx),
    lines.map((l) => l.stream),
    lines.map((l) => l.at),
    offsets,
    lines.map((l) => l.length),
    texts,
  ]);
  return rows[0]?.n ?? 0;
}

// name: workerHeartbeat — $1 worker, $2 runs held, $3 lease seconds.
// Returns the runs still held, each with whether a cancel was requested.
export async function workerHeartbeat(
  db: Queryable,
  workerId: string,
  runIds: number[],
  leaseSeconds: number,
): Promise<Map<number, { cancelRequested: boolean }>> {
  const { rows } = await db.query<{ run_id: number; cancel_requested: boolean }>(
    `SELECT run_id, cancel_requested FROM hostrun.heartbeat($1, $2, $3)`,
    [workerId, runIds, leaseSeconds],
  );
  return new Map(rows.map((r) => [r.run_id, { cancelRequested: r.cancel_requested }]));
}

// name: runsReap — $1 limit. Re-queues (or fails) runs whose lease expired.
export async function runsReap(db: Queryable, limit = 1000): Promise<{ id: number; status: RunStatus }[]> {
  const { rows } = await db.query<{ id: number; status: RunStatus }>(`SELECT id, status FROM hostrun.reap_expired_runs($1)`, [limit]);
  return rows;
}

// name: workerRegister — $1 id, $2 kind, $3 hostname, $4 pid, $5 labels, $6 concurrency, $7 version
export async function workerRegister(
  db: Queryable,
  w: { id: string; kind: 'worker' | 'agent'; hostname: string; pid: number; labels: string[]; concurrency: number; version: string },
): Promise<void> {
  await db.query(
    `INSERT INTO hostrun.workers (id, kind, hostname, pid, labels, concurrency, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET labels = EXCLUDED.labels, concurrency = EXCLUDED.concurrency,
       last_heartbeat_at = now(), stopped_at = NULL`,
    [w.id, w.kind, w.hostname, w.pid, w.labels, w.concurrency, w.version],
  );
}

// name: workerMarkStopped — $1 id
export async function workerMarkStopped(db: Queryable, workerId: string): Promise<void> {
  await db.query(`UPDATE hostrun.workers SET stopped_at = now() WHERE id = $1`, [workerId]);
}

// name: jobVersionsGet — $1 job ids, $2 versions. The specs a batch of claimed runs needs.
export async function jobVersionsGet(
  db: Queryable,
  keys: { jobId: string; version: number }[],
): Promise<{ job_id: string; version: number; spec: unknown }[]> {
  const { rows } = await db.query<{ job_id: string; version: number; spec: unknown }>(
    `SELECT v.job_id, v.version, v.spec
       FROM hostrun.job_versions v
       JOIN unnest($1::uuid[], $2::int[]) AS k(job_id, version) ON v.job_id = k.job_id AND v.version = k.version`,
    [keys.map((k) => k.jobId), keys.map((k) => k.version)],
  );
  return rows;
}

// name: triggerPayloadGet — $1 run id. The webhook body a run was triggered with (JSON).
export async function triggerPayloadGet(db: Queryable, runId: number): Promise<unknown> {
  const { rows } = await db.query<{ trigger_payload: unknown }>(`SELECT trigger_payload FROM hostrun.runs WHERE id = $1`, [runId]);
  return rows[0]?.trigger_payload ?? undefined;
}
