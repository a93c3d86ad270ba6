import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import type { Pool } from '../db/pool.ts';
import { artifactPut, artifactsDeleteExpired } from '../db/artifacts.ts';
import { hostPinKey } from '../db/hosts.ts';
import type { JobSpec, RunStatus } from '../core/types.ts';
import { retryDelaySeconds } from '../core/backoff.ts';
import { Batcher } from '../queue/batcher.ts';
import { listen, type Listener } from '../queue/listener.ts';
import {
  jobVersionsGet,
  triggerPayloadGet,
  runsClaim,
  runsComplete,
  runsReap,
  runsRelease,
  runsStart,
  workerHeartbeat,
  workerMarkStopped,
  workerRegister,
  type ClaimedRun,
  type Completion,
} from '../queue/protocol.ts';
import { LocalExecutor } from '../executors/local.ts';
import { SshPool } from '../executors/ssh-pool.ts';
import type { Executor } from '../executors/types.ts';
import type { SecretKey } from '../secrets/crypto.ts';
import { LogWriter, RunLog } from './log-writer.ts';
import { StepWriter, type StepState } from './step-writer.ts';
import { executeRun, RunAbort, type RunExecutionDeps, type RunResult } from './run-executor.ts';
import { baseEnvironment } from './environment.ts';
import { prepareRun, type PreparedRun } from './targets.ts';
import { PrefetchDepth } from './prefetch-depth.ts';

// The worker loop: claim -> prepare -> execute steps -> stream logs -> complete.
// Throughput comes from round trips: claims, starts, completions, step states and log lines
// each go to Postgres in batches shared by all runs in flight, and a NOTIFY (not a poll)
// wakes the loop when work arrives.

export interface WorkerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WorkerOptions {
  pool: Pool;
  /** For the LISTEN connection (a pool connection cannot stay in LISTEN). */
  databaseUrl: string;
  concurrency: number;
  labels?: string[];
  /** HOSTRUN_HOME: run work directories go under `<home>/work`. */
  home: string;
  logger?: WorkerLogger;
  id?: string;
  /**
   * At most this many runs claimed beyond the free slots, into a local queue (default
   * DEFAULT_PREFETCH; 0 claims only for free slots). How many are actually held follows the
   * worker's pace (prefetch-depth.ts): ~0 while runs take seconds, up to this cap while a
   * backlog of short runs drains.
   */
  prefetch?: number;
  leaseSeconds?: number;
  heartbeatMs?: number;
  /** Fallback poll when no NOTIFY arrives (missed while reconnecting, or a run became due by time). */
  pollMs?: number;
  reapMs?: number;
  killGraceMs?: number;
  maxLogBytesPerRun?: number;
  /** The executor for `runs-on: local` (tests may pass their own). */
  localExecutor?: Executor;
  /** Opens secrets for runs; without it, runs that use secrets or SSH keys fail clearly. */
  secretKey?: SecretKey;
  sshConnectTimeoutMs?: number;
  /** Artifacts expire this many days after their run (HOSTRUN_ARTIFACT_DAYS, 30). */
  artifactRetentionDays?: number;
  /** Artifacts kept per run at most (HOSTRUN_ARTIFACT_MAX_MB, 100 MiB). */
  artifactMaxBytes?: number;
  /** Jitter source for retry backoff (tests pin it). */
  random?: () => number;
}

export interface WorkerHandle {
  id: string;
  /** Stops claiming, lets running runs finish for up to graceMs, then hands the rest back to the queue. */
  stop(graceMs?: number): Promise<void>;
  /** Runs this worker holds right now (claimed or executing). */
  activeRunIds(): number[];
}

interface ActiveRun {
  run: ClaimedRun;
  abort: RunAbort;
  /** Resolves true once the database has the run as running (at once when the claim started it). */
  startLanded: Promise<boolean>;
}

const NOOP_LOGGER: WorkerLogger = { info() {}, warn() {}, error() {} };
export const DEFAULT_LEASE_SECONDS = 30;
export const DEFAULT_MAX_LOG_BYTES = 64 * 1024 * 1024;
/** A cap, as large as graphile-worker's tuned local queue; the adaptive depth reaches it only above ~5,000 runs/s per worker. */
export const DEFAULT_PREFETCH = 500;
/** What a start withdrawn by foldStart resolves to: a log seq, as if it had landed. */
const FOLDED_INTO_COMPLETION = 0;

export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const worker = new Worker(options);
  await worker.start();
  return {
    id: worker.id,
    stop: (graceMs) => worker.stop(graceMs),
    activeRunIds: () => [...worker.active.keys()],
  };
}

class Worker {
  readonly id: string;
  readonly active = new Map<number, ActiveRun>();
  private readonly pending: ClaimedRun[] = [];
  private executing = 0;
  private stopping = false;
  private wakeUp: (() => void) | null = null;
  private wakeRequested = false;
  private loopDone: Promise<void> = Promise.resolve();
  private listener: Listener | null = null;
  private timers: NodeJS.Timeout[] = [];
  private readonly specs = new Map<string, JobSpec>();
  private readonly log: WorkerLogger;
  private readonly concurrency: number;
  private readonly prefetchDepth: PrefetchDepth;
  private readonly leaseSeconds: number;
  private readonly localExecutor: Executor;
  private readonly sshPool: SshPool;
  private readonly logs: LogWriter;
  private readonly steps: StepWriter;
  /** Starts not written yet, each with when its run began executing (see foldStart). */
  private readonly starter: Batcher<{ id: number; attempt: number; at: number }, number | undefined>;
  private readonly completer: Batcher<Completion, RunStatus | undefined>;
  private readonly specLoader: Batcher<{ jobId: string; version: number }, JobSpec | undefined>;
  private executions = new Set<Promise<void>>();
  private writes = new Set<Promise<void>>();
  private readonly baseEnv = baseEnvironment();

  constructor(private readonly options: WorkerOptions) {
    this.id = options.id ?? `${osHostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.log = options.logger ?? NOOP_LOGGER;
    this.concurrency = Math.max(1, options.concurrency);
    this.prefetchDepth = new PrefetchDepth(options.prefetch ?? DEFAULT_PREFETCH);
    this.leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    const pool = options.pool;
    this.localExecutor = options.localExecutor ?? new LocalExecutor(path.join(options.home, 'work'), options.killGraceMs);
    this.sshPool = new SshPool({
      connectTimeoutMs: options.sshConnectTimeoutMs,
      pin: (target, fingerprint) => (target.hostId ? hostPinKey(pool, target.hostId, fingerprint) : Promise.resolve(fingerprint)),
    });
    const onDbError = (err: unknown) => this.log.error({ err: String(err) }, 'database write failed');
    this.logs = new LogWriter(pool, { maxRunBytes: options.maxLogBytesPerRun ?? DEFAULT_MAX_LOG_BYTES, onError: onDbError });
    this.steps = new StepWriter(pool, onDbError);
    this.starter = new Batcher({
      maxBatch: 1000,
      flush: async (runs) => {
        const started = await runsStart(pool, this.id, runs);
        return runs.map((r) => started.get(r.id));
      },
    });
    this.completer = new Batcher({
      maxBatch: 1000,
      flush: async (items) => {
        const done = await runsComplete(pool, this.id, items);
        return items.map((c) => done.get(c.id));
      },
    });
    this.specLoader = new Batcher({
      maxBatch: 500,
      flush: async (keys) => {
        const rows = await jobVersionsGet(pool, keys);
        const found = new Map(rows.map((r) => [`${r.job_id}:${r.version}`, r.spec as JobSpec]));
        return keys.map((k) => found.get(`${k.jobId}:${k.version}`));
      },
    });
  }

  async start(): Promise<void> {
    const { pool } = this.options;
    await workerRegister(pool, {
      id: this.id,
      kind: 'worker',
      hostname: osHostname(),
      pid: process.pid,
      labels: this.options.labels ?? [],
      concurrency: this.concurrency,
      version: process.env.npm_package_version ?? 'dev',
    });
    this.listener = await listen({
      url: this.options.databaseUrl,
      channels: ['hostrun_queue', 'hostrun_cancel'],
      onNotify: (channel, payload) => (channel === 'hostrun_cancel' ? this.onCancel(Number(payload)) : this.wake()),
      onReconnect: () => this.wake(),
      onError: (err) => this.log.warn({ err: err.message }, 'listener connection lost; reconnecting'),
    });
    const heartbeatMs = this.options.heartbeatMs ?? (this.leaseSeconds * 1000) / 3;
    this.every(heartbeatMs, () => this.heartbeat());
    this.every(this.options.reapMs ?? 5000, () => this.reap());
    this.every(this.options.pollMs ?? 2000, () => this.wake());
    this.loopDone = this.claimLoop();
    this.log.info({ worker: this.id, concurrency: this.concurrency, labels: this.options.labels ?? [] }, 'worker started');
  }

  async stop(graceMs = 30_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.wake();
    await this.loopDone;
    this.timers.forEach(clearTimeout); // intervals and timeouts share one id space in Node
    // Claimed but not started: hand back at once, without using up an attempt.
    const waiting = this.pending.splice(0);
    for (const r of waiting) this.active.delete(r.id);
    await runsRelease(this.options.pool, this.id, waiting).catch((err) => this.log.error({ err: String(err) }, 'release failed'));

    if (this.executions.size > 0) {
      const grace = new Promise<'grace'>((r) => setTimeout(() => r('grace'), graceMs).unref());
      const all = Promise.all([...this.executions]).then(() => 'done' as const);
      if ((await Promise.race([all, grace])) === 'grace') {
        this.log.warn({ runs: [...this.active.keys()] }, 'shutdown grace period over; interrupting runs and returning them to the queue');
        for (const a of this.active.values()) a.abort.abort('shutdown');
        await all;
      }
    }
    await Promise.all([...this.writes]);
    this.sshPool.closeAll();
    await this.listener?.close();
    await workerMarkStopped(this.options.pool, this.id).catch(() => {});
    this.log.info({ worker: this.id }, 'worker stopped');
  }

  private every(ms: number, fn: () => Promise<void> | void): void {
    const t = setInterval(() => void fn(), ms);
    t.unref();
    this.timers.push(t);
  }

  /** One wake-up after ms (cleared on stop). */
  private wakeAt(ms: number): void {
    const t = setTimeout(() => {
      this.timers.splice(this.timers.indexOf(t), 1);
      this.wake();
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private wake(): void {
    this.wakeRequested = true;
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private async claimLoop(): Promise<void> {
    while (!this.stopping) {
      this.wakeRequested = false;
      const free = Math.max(0, this.concurrency - this.executing - this.pending.length);
      const depth = this.prefetchDepth.current();
      // The local queue is topped up once it is half empty, not on every freed slot: claims of
      // a run or two would each cost a statement and undo what claiming ahead saves.
      const room = free > 0 || this.pending.length <= depth / 2 ? free + Math.max(0, depth - this.pending.length) : 0;
      let claimed: ClaimedRun[] = [];
      if (room > 0) {
        try {
          claimed = await runsClaim(this.options.pool, {
            workerId: this.id,
            labels: this.options.labels ?? [],
            limit: room,
            leaseSeconds: this.leaseSeconds,
            start: free,
          });
        } catch (err) {
          this.log.error({ err: String(err) }, 'claim failed');
        }
        for (const run of claimed) {
          this.active.set(run.id, { run, abort: new RunAbort(), startLanded: Promise.resolve(run.started) });
          this.pending.push(run);
        }
        this.pump();
        // A full batch means more is probably waiting: go again without sleeping.
        if (claimed.length === room && !this.stopping) continue;
      }
      if (!this.wakeRequested && !this.stopping) await new Promise<void>((r) => (this.wakeUp = r));
    }
  }

  /** Starts pending runs while slots are free. */
  private pump(): void {
    while (this.executing < this.concurrency && this.pending.length > 0 && !this.stopping) {
      const run = this.pending.shift()!;
      this.executing++;
      const p = this.process(run)
        .catch((err) => this.log.error({ run: run.id, err: String(err) }, 'run processing failed'))
        .finally(() => {
          this.executing--;
          this.prefetchDepth.recordFinish();
          this.active.delete(run.id);
          this.executions.delete(p);
          this.pump();
          this.wake();
        });
      this.executions.add(p);
    }
  }

  private async process(run: ClaimedRun): Promise<void> {
    const entry = this.active.get(run.id)!;
    const spec = run.spec ? (run.spec as JobSpec) : run.job_id ? await this.specFor(run.job_id, run.job_version) : undefined;
    if (!spec) {
      await this.complete(run, { status: 'failed', exitCode: null, error: `job ${run.job_name} v${run.job_version} no longer exists`, outputs: null }, false);
      return;
    }
    if (entry.abort.reason === 'canceled') {
      await this.complete(run, { status: 'canceled', exitCode: null, error: 'canceled', outputs: null }, false);
      return;
    }
    if (!run.started) entry.startLanded = this.startInBackground(run, entry.abort);
    const runLog = new RunLog(run.id, run.attempt, run.log_seq ?? 0);
    if (run.attempt > 1) this.logs.system(runLog, null, `[hostrun] attempt ${run.attempt} of ${run.max_attempts}`);
    let prepared: PreparedRun;
    try {
      prepared = await prepareRun({
        pool: this.options.pool,
        projectId: run.project_id,
        spec,
        trigger: run.trigger,
        target: run.target,
        secretKey: this.options.secretKey,
        sshPool: this.sshPool,
        local: this.localExecutor,
      });
    } catch (err) {
      // Unknown host or secret, no key: the run cannot start; say why in one line.
      const error = (err as Error).message;
      this.logs.system(runLog, null, `[hostrun] ${error}`);
      this.track(this.finish(run, entry.startLanded, runLog, { status: 'failed', exitCode: null, error, outputs: {} }, spec));
      return;
    }
    runLog.mask = (text) => prepared.masker.mask(text);
    runLog.maskReach = prepared.masker.maxLength;
    let executed: RunResult;
    try {
      const toRun = {
        id: run.id,
        attempt: run.attempt,
        jobName: run.job_name,
        inputs: run.inputs,
        timeoutSeconds: run.timeout_seconds,
        // Only webhook runs carry a payload; reading it for every run would cost a query each.
        triggerPayload: run.trigger === 'webhook' ? await triggerPayloadGet(this.options.pool, run.id) : undefined,
      };
      executed = await executeRun(toRun, spec, runLog, entry.abort, this.executionDeps(run.id, prepared));
    } catch (err) {
      // A bug or an unexpected failure inside Hostrun: fail the run with the reason instead of
      // leaving it running until its lease runs out.
      this.log.error({ run: run.id, err: String(err) }, 'run execution failed');
      executed = { status: 'failed', exitCode: null, error: `internal error: ${(err as Error).message}`, outputs: {} };
    }
    // Errors and outputs can echo what a step printed: they are masked like its logs.
    const result: RunResult = { ...executed, error: executed.error && prepared.masker.mask(executed.error), outputs: prepared.masker.maskDeep(executed.outputs) };
    // The slot is free as soon as execution ends; storing the outcome is a write that joins
    // the next batch, so it must not hold up the next claim.
    this.track(this.finish(run, entry.startLanded, runLog, result, spec));
  }

  /** What executing one run needs from this worker: its writers, and the run's target and secrets. */
  private executionDeps(runId: number, prepared: PreparedRun): RunExecutionDeps {
    return {
      executor: prepared.executor,
      logs: this.logs,
      steps: this.steps,
      baseEnv: this.baseEnv,
      secrets: prepared.secrets,
      masker: prepared.masker,
      artifacts: {
        maxBytes: this.options.artifactMaxBytes ?? 100 * 1024 * 1024,
        store: async (files) => {
          const days = this.options.artifactRetentionDays ?? 30;
          const expiresAt = new Date(Date.now() + days * 86_400_000);
          for (const f of files) await artifactPut(this.options.pool, { runId, key: f.key, content: f.content, expiresAt });
        },
      },
    };
  }

  /**
   * A run from the local queue executes at once; its claimed -> running transition joins the
   * next batched start_runs and lands while it executes (the claim already gave it its log
   * seq). The worker holds the run's lease, so only a lease lost to a stall can fence the
   * start; the run is then stopped like any run whose lease was taken.
   */
  private startInBackground(run: ClaimedRun, abort: RunAbort): Promise<boolean> {
    const fenced = (why: string) => {
      this.log.warn({ run: run.id, attempt: run.attempt }, why);
      abort.abort('lost');
      return false;
    };
    return this.starter.add({ id: run.id, attempt: run.attempt, at: Date.now() }).then(
      (seq) => seq !== undefined || fenced('run was taken over before it started; stopping it without writing'),
      (err: unknown) => fenced(`starting the run failed (${String(err)}); leaving it to the reaper`),
    );
  }

  /**
   * A run that ends while its start still waits for the next batch (a start in flight holds
   * it back) gives the start up: the completion writes the start time with the outcome, one
   * UPDATE of the run instead of two (0010_compound_transitions.sql). Returns that start time.
   */
  private foldStart(runId: number): number | undefined {
    return this.starter.withdraw((start) => start.id === runId, FOLDED_INTO_COMPLETION)?.at;
  }

  private async finish(run: ClaimedRun, startLanded: Promise<boolean>, runLog: RunLog, result: RunResult, spec: JobSpec): Promise<void> {
    // A run ends only after its start is on record (or goes with the outcome): a run whose
    // start was fenced off is not ours to finish or hand back.
    const startedAt = result.abandoned === undefined ? this.foldStart(run.id) : undefined;
    if (!(await startLanded)) return;
    if (result.abandoned === 'lost') return;
    if (result.abandoned === 'shutdown') {
      await Promise.all([this.logs.drainRun(runLog), this.steps.drainRun(run.id)]);
      await runsRelease(this.options.pool, this.id, [run]);
      return;
    }
    const retryable = (result.status === 'failed' || result.status === 'timed_out') && run.attempt < run.max_attempts;
    if (retryable) this.logs.system(runLog, null, `[hostrun] ${result.error}; retrying`);
    // Logs first, so whoever sees the run finished also sees all of its output; the last
    // step states go in the completion statement itself.
    await this.logs.drainRun(runLog);
    await this.complete(run, result, retryable, spec, await this.steps.takeRun(run.id), startedAt);
  }

  /** Background writes that stop() must wait for. */
  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err) => this.log.error({ err: String(err) }, 'storing a run outcome failed'))
      .finally(() => this.writes.delete(tracked));
    this.writes.add(tracked);
  }

  private async complete(
    run: ClaimedRun,
    result: Pick<Completion, 'status' | 'exitCode' | 'error' | 'outputs'>,
    retryable: boolean,
    spec?: JobSpec,
    steps?: StepState[],
    startedAt?: number,
  ): Promise<void> {
    const retryInSeconds = retryable && spec ? retryDelaySeconds(spec.retries, run.attempt, this.options.random) : null;
    const status = await this.completer.add({ id: run.id, attempt: run.attempt, ...result, retryInSeconds, steps, ...(startedAt !== undefined && { startedAt }) });
    if (status === undefined) this.log.warn({ run: run.id, attempt: run.attempt }, 'completion fenced off: the run was taken over');
    // The retry's NOTIFY came at the commit, before it was due; without a wake-up of its own it
    // would wait for the next poll. The database set run_after from its transaction's start,
    // which was before now, so this timer fires after it.
    if (status === 'queued' && retryInSeconds !== null && !this.stopping) this.wakeAt(retryInSeconds * 1000);
  }

  private async specFor(jobId: string, version: number): Promise<JobSpec | undefined> {
    const key = `${jobId}:${version}`;
    const cached = this.specs.get(key);
    if (cached) return cached;
    const spec = await this.specLoader.add({ jobId, version });
    // Versions are immutable, so a spec can be cached for the life of the process.
    if (spec) this.specs.set(key, spec);
    return spec;
  }

  private onCancel(runId: number): void {
    const entry = this.active.get(runId);
    if (entry && !entry.abort.aborted) {
      this.log.info({ run: runId }, 'cancel requested');
      entry.abort.abort('canceled');
    }
  }

  private async heartbeat(): Promise<void> {
    const held = [...this.active.keys()];
    try {
      const alive = await workerHeartbeat(this.options.pool, this.id, held, this.leaseSeconds);
      for (const id of held) {
        const entry = this.active.get(id);
        if (!entry) continue;
        const state = alive.get(id);
        if (!state) {
          this.log.warn({ run: id }, 'lease lost: another worker owns this run now; stopping it without writing');
          entry.abort.abort('lost');
        } else if (state.cancelRequested) {
          this.onCancel(id);
        }
      }
    } catch (err) {
      this.log.error({ err: String(err) }, 'heartbeat failed');
    }
  }

  private async reap(): Promise<void> {
    try {
      const reaped = await runsReap(this.options.pool);
      if (reaped.length > 0) this.log.warn({ runs: reaped }, 're-queued runs whose worker was lost');
      await artifactsDeleteExpired(this.options.pool);
    } catch (err) {
      this.log.error({ err: String(err) }, 'reaper failed');
    }
  }
}
