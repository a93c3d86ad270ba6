// The systems `npm run bench` compares, each with both halves of what a scenario needs:
// a worker (run inside bench/bench-worker.ts processes) and a producer/inspector (run in the
// benchmark's own process). Peers are loaded from bench/node_modules with untyped dynamic
// imports, so the product's type check passes whether or not `npm install --prefix bench`
// was run; the small interfaces below are the only parts of their APIs we use.
import { createPool, type Pool } from '../src/db/pool.ts';
import { migrate } from '../src/db/migrate.ts';
import { parseJobSpec } from '../src/core/spec.ts';
import { jobApply } from '../src/db/jobs.ts';
import { projectIdBySlug } from '../src/db/projects.ts';
import { runEnqueue, runsEnqueue, type EnqueueRequest } from '../src/queue/enqueue.ts';
import { startWorker } from '../src/worker/worker.ts';

export type SystemName = 'hostrun' | 'graphile' | 'graphile-tuned' | 'pgboss' | 'pgboss-tuned' | 'bullmq';
export type Task = 'noop' | 'sleep5';

export interface WorkerContext {
  databaseUrl: string;
  redisUrl: string;
  home: string;
  concurrency: number;
  task: Task;
  /** Peers call this as their job handler; Hostrun runs its own built-in steps. */
  handle(payload: { k?: number } | undefined): Promise<void>;
}

export interface TableStats {
  /** Dead tuples of the hot tables (pg_stat_user_tables), or null where not Postgres. */
  deadTuples: number | null;
  /** Vacuums of the hot tables so far (autovacuum and manual), or null where not Postgres. */
  vacuums: number | null;
  /** Table + index bytes of the hot tables, or Redis used_memory for BullMQ. */
  bytes: number;
}

export interface Producer {
  /** N jobs in one call. */
  enqueueMany(n: number, task: Task): Promise<void>;
  /** One job carrying key `k` (a sample number or an intended send time). */
  enqueueOne(task: Task, k: number): Promise<void>;
  /** Jobs not finished yet (queued, locked or running). */
  unfinished(): Promise<number>;
  /** When the last job finished (ms since epoch), where the system records it; else null. */
  lastFinishedAt(): Promise<number | null>;
  /** Removes every job and its history, then VACUUM ANALYZE and CHECKPOINT: each repeat starts alike. */
  reset(): Promise<void>;
  stats(): Promise<TableStats>;
  close(): Promise<void>;
}

export interface SystemDef {
  label: string;
  /** npm package whose version is reported. */
  pkg: string | null;
  settings: string;
  history: string;
  postgres: boolean;
  /** Creates the schema in a fresh database (or Redis prefix) and returns a producer. */
  open(databaseUrl: string, redisUrl: string): Promise<Producer>;
  /** Starts a worker in this process; resolves to its stop function. */
  startWorker(ctx: WorkerContext): Promise<() => Promise<void>>;
}

// Peers are imported by a name held in a variable so TypeScript does not resolve them.
async function peer(name: string): Promise<any> {
  return import(name);
}

const QUEUE = 'bench';
const GRAPHILE_TASK = 'bench';
const BULL_PREFIX = 'hostrun-bench';

/**
 * After emptying a system's tables: VACUUM ANALYZE them, then CHECKPOINT, so each measurement
 * starts from the same state and none pays for the checkpoint of what ran before it (one that
 * came due during a scenario stalled commits for seconds on a slow disk).
 */
async function settle(pool: Pool, tables: string[]): Promise<void> {
  await pool.query(`VACUUM ANALYZE ${tables.join(', ')}`);
  await pool.query('CHECKPOINT');
}

/** `names`: schema-qualified tables, or whole schemas. */
async function pgStats(pool: Pool, names: string[]): Promise<TableStats> {
  const { rows } = await pool.query<{ dead: string; bytes: string; vacuums: string }>(
    `SELECT coalesce(sum(n_dead_tup), 0) AS dead, coalesce(sum(pg_total_relation_size(relid)), 0) AS bytes,
            coalesce(sum(autovacuum_count + vacuum_count), 0) AS vacuums
       FROM pg_stat_user_tables WHERE schemaname || '.' || relname = ANY ($1) OR schemaname = ANY ($1)`,
    [names],
  );
  return { deadTuples: Number(rows[0]!.dead), bytes: Number(rows[0]!.bytes), vacuums: Number(rows[0]!.vacuums) };
}

// ---------------------------------------------------------------------------------------
// Hostrun
// ---------------------------------------------------------------------------------------

const HOSTRUN_SOURCES: Record<Task, string> = {
  noop: 'name: bench-noop\nsteps:\n  - uses: noop\n',
  sleep5: 'name: bench-sleep5\nsteps:\n  - uses: sleep\n    with:\n      ms: 5\n',
};

export async function hostrunRequests(pool: Pool): Promise<Record<Task, EnqueueRequest>> {
  const projectId = (await projectIdBySlug(pool, 'default'))!;
  const out = {} as Record<Task, EnqueueRequest>;
  for (const task of ['noop', 'sleep5'] as const) {
    const spec = parseJobSpec(HOSTRUN_SOURCES[task]);
    const { job } = await jobApply(pool, { projectId, spec, source: HOSTRUN_SOURCES[task] });
    out[task] = { projectId, job: { id: job.id, name: job.name, version: job.version, spec }, inputs: {}, trigger: 'api' };
  }
  return out;
}

const HOSTRUN_TABLES = ['hostrun.runs', 'hostrun.run_events', 'hostrun.run_queue', 'hostrun.run_leases'];

const hostrun: SystemDef = {
  label: 'Hostrun',
  pkg: null,
  settings: 'claims ahead into a local queue whose depth follows the pace (product default prefetch cap 500; runs for free slots start in the claim statement, the rest in batched starts while they execute, or with their completion when they end first), batched completions carrying step states, poll 1 s as fallback to LISTEN; status changes send no NOTIFY; in C, each producer call goes through runEnqueue (the API\'s path), where calls in flight at once share one INSERT',
  history: 'everything: the run row (status, attempt, worker, claimed/started/finished times, outputs), its step states (in the run row), one run_events row per transition (4 per run: queued, claimed, running, succeeded)',
  postgres: true,
  async open(databaseUrl) {
    const pool = createPool(databaseUrl, { max: 8, applicationName: 'bench-producer' });
    // Counting and statistics on connections of their own: in scenario C the producer's pool
    // can hold thousands of waiting enqueues, and a query queued behind them timed out.
    const inspector = createPool(databaseUrl, { max: 2, applicationName: 'bench-inspector' });
    await migrate(pool);
    const requests = await hostrunRequests(pool);
    return {
      async enqueueMany(n, task) {
        // One statement for the lot, in chunks that keep the parameter arrays reasonable.
        for (let i = 0; i < n; i += 50_000) await runsEnqueue(pool, Array.from({ length: Math.min(50_000, n - i) }, () => requests[task]));
      },
      async enqueueOne(task, k) {
        // The API's path for one run (POST /runs): concurrent calls share a statement.
        await runEnqueue(pool, { ...requests[task], inputs: { k } });
      },
      async unfinished() {
        const { rows } = await inspector.query<{ n: string }>(
          `SELECT (SELECT count(*) FROM hostrun.run_queue) + (SELECT count(*) FROM hostrun.run_leases) AS n`,
        );
        return Number(rows[0]!.n);
      },
      async lastFinishedAt() {
        const { rows } = await inspector.query<{ t: Date | null; bad: string }>(
          `SELECT max(finished_at) AS t, count(*) FILTER (WHERE status <> 'succeeded') AS bad FROM hostrun.runs`,
        );
        if (Number(rows[0]!.bad) > 0) throw new Error(`${rows[0]!.bad} Hostrun runs did not succeed`);
        return rows[0]!.t?.getTime() ?? null;
      },
      async reset() {
        await pool.query('TRUNCATE hostrun.runs, hostrun.run_queue, hostrun.run_leases, hostrun.run_logs, hostrun.run_events CASCADE');
        await settle(pool, ['hostrun.runs', 'hostrun.run_events', 'hostrun.run_queue', 'hostrun.run_leases']);
      },
      stats: () => pgStats(inspector, HOSTRUN_TABLES),
      async close() {
        await pool.end();
        await inspector.end();
      },
    };
  },
  async startWorker(ctx) {
    const pool = createPool(ctx.databaseUrl, { max: 4, applicationName: 'bench-worker' });
    // HOSTRUN_PREFETCH: an experiment knob (the product default is used when unset).
    const prefetch = process.env.HOSTRUN_PREFETCH ? Number(process.env.HOSTRUN_PREFETCH) : undefined;
    const worker = await startWorker({ pool, databaseUrl: ctx.databaseUrl, concurrency: ctx.concurrency, home: ctx.home, pollMs: 1000, prefetch });
    return async () => {
      await worker.stop();
      await pool.end();
    };
  },
};

// ---------------------------------------------------------------------------------------
// graphile-worker
// ---------------------------------------------------------------------------------------

function graphile(tuned: boolean): SystemDef {
  return {
    label: tuned ? 'graphile-worker (tuned)' : 'graphile-worker (default)',
    pkg: 'graphile-worker',
    settings: tuned
      ? 'concurrentJobs = concurrency, localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0 (batched fetch and completion), pollInterval 2000 (LISTEN/NOTIFY)'
      : 'concurrentJobs = concurrency, everything else default (pollInterval 2000 with LISTEN/NOTIFY, no local queue, per-job completion)',
    history: 'nothing: a job row is deleted when it completes (failed jobs stay with their last error)',
    postgres: true,
    async open(databaseUrl) {
      const gw = await peer('graphile-worker');
      const utils = await gw.makeWorkerUtils({ connectionString: databaseUrl });
      await utils.migrate();
      const pool = createPool(databaseUrl, { max: 8, applicationName: 'bench-producer' });
      return {
        async enqueueMany(n) {
          for (let i = 0; i < n; i += 50_000) {
            await utils.addJobs(Array.from({ length: Math.min(50_000, n - i) }, () => ({ identifier: GRAPHILE_TASK, payload: {} })));
          }
        },
        async enqueueOne(_task, k) {
          await utils.addJob(GRAPHILE_TASK, { k });
        },
        async unfinished() {
          const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM graphile_worker._private_jobs');
          return Number(rows[0]!.n);
        },
        lastFinishedAt: async () => null,
        async reset() {
          await pool.query('DELETE FROM graphile_worker._private_jobs');
          await settle(pool, ['graphile_worker._private_jobs', 'graphile_worker._private_job_queues']);
        },
        stats: () => pgStats(pool, ['graphile_worker']),
        async close() {
          await utils.release();
          await pool.end();
        },
      };
    },
    async startWorker(ctx) {
      const gw = await peer('graphile-worker');
      const worker = tuned
        ? { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 }
        : {};
      const runner = await gw.run({
        connectionString: ctx.databaseUrl,
        concurrency: ctx.concurrency,
        noHandleSignals: true,
        logger: new gw.Logger(() => () => {}),
        preset: { worker },
        taskList: { [GRAPHILE_TASK]: (payload: { k?: number }) => ctx.handle(payload) },
      });
      return () => runner.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------
// pg-boss
// ---------------------------------------------------------------------------------------

function pgboss(tuned: boolean): SystemDef {
  // pg-boss 10 has no concurrency option: each work() call is one fetch loop, so concurrency
  // N is N work() calls. It has no LISTEN/NOTIFY across processes either, so a loop that
  // finds work still waits out its polling interval before the next fetch.
  const batchSize = tuned ? 100 : 1;
  const pollingIntervalSeconds = tuned ? 0.5 : 2;
  return {
    label: tuned ? 'pg-boss (tuned)' : 'pg-boss (default)',
    pkg: 'pg-boss',
    settings: tuned
      ? 'N work() loops, batchSize 100, pollingIntervalSeconds 0.5 (its minimum); supervise and schedule off in workers'
      : 'N work() loops, batchSize 1, pollingIntervalSeconds 2 (defaults); supervise and schedule off in workers',
    history: 'the job row with state, timestamps (created, started, completed) and output, in pgboss.job until archived (12 h by default), then pgboss.archive (7 days); no per-transition events',
    postgres: true,
    async open(databaseUrl) {
      const { default: PgBoss } = await peer('pg-boss');
      const boss = new PgBoss({ connectionString: databaseUrl, supervise: false, schedule: false, max: 4 });
      boss.on('error', () => {});
      await boss.start();
      await boss.createQueue(QUEUE);
      const pool = createPool(databaseUrl, { max: 8, applicationName: 'bench-producer' });
      return {
        async enqueueMany(n) {
          for (let i = 0; i < n; i += 50_000) await boss.insert(Array.from({ length: Math.min(50_000, n - i) }, () => ({ name: QUEUE, data: {} })));
        },
        async enqueueOne(_task, k) {
          await boss.send(QUEUE, { k });
        },
        async unfinished() {
          const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM pgboss.job WHERE state < 'completed'`);
          return Number(rows[0]!.n);
        },
        async lastFinishedAt() {
          const { rows } = await pool.query<{ t: Date | null }>(`SELECT max(completed_on) AS t FROM pgboss.job WHERE state = 'completed'`);
          return rows[0]!.t?.getTime() ?? null;
        },
        async reset() {
          await pool.query('TRUNCATE pgboss.job, pgboss.archive');
          await settle(pool, ['pgboss.job']);
        },
        stats: () => pgStats(pool, ['pgboss']),
        async close() {
          await boss.stop({ graceful: false, wait: true, close: true });
          await pool.end();
        },
      };
    },
    async startWorker(ctx) {
      const { default: PgBoss } = await peer('pg-boss');
      const boss = new PgBoss({ connectionString: ctx.databaseUrl, supervise: false, schedule: false, migrate: false, max: Math.max(2, Math.min(10, ctx.concurrency)) });
      boss.on('error', () => {});
      await boss.start();
      for (let i = 0; i < ctx.concurrency; i++) {
        await boss.work(QUEUE, { batchSize, pollingIntervalSeconds }, async (jobs: { data: { k?: number } }[]) => {
          for (const job of jobs) await ctx.handle(job.data);
        });
      }
      return () => boss.stop({ graceful: true, wait: true, close: true, timeout: 10_000 });
    },
  };
}

// ---------------------------------------------------------------------------------------
// BullMQ (Redis)
// ---------------------------------------------------------------------------------------

const bullmq: SystemDef = {
  label: 'BullMQ',
  pkg: 'bullmq',
  settings: 'Worker concurrency = concurrency, defaults otherwise (completed jobs kept: removeOnComplete unset), Redis on 127.0.0.1, appendonly as configured on the machine',
  history: 'the job hash (data, return value, timestamps processedOn/finishedOn, attempts) and the completed set, in Redis memory, kept until removed',
  postgres: false,
  async open(_databaseUrl, redisUrl) {
    const { Queue } = await peer('bullmq');
    const connection = redisConnection(redisUrl);
    const queue = new Queue(QUEUE, { connection, prefix: BULL_PREFIX });
    await queue.obliterate({ force: true });
    return {
      async enqueueMany(n) {
        for (let i = 0; i < n; i += 10_000) await queue.addBulk(Array.from({ length: Math.min(10_000, n - i) }, () => ({ name: 'j', data: {} })));
      },
      async enqueueOne(_task, k) {
        await queue.add('j', { k });
      },
      async unfinished() {
        const c = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused');
        return Object.values(c as Record<string, number>).reduce((a, b) => a + b, 0);
      },
      lastFinishedAt: async () => null,
      async reset() {
        await queue.obliterate({ force: true });
      },
      async stats() {
        const client = await queue.client;
        const info: string = await client.info('memory');
        const used = /used_memory:(\d+)/.exec(info)?.[1];
        return { deadTuples: null, bytes: Number(used ?? 0), vacuums: null };
      },
      async close() {
        await queue.close();
      },
    };
  },
  async startWorker(ctx) {
    const { Worker } = await peer('bullmq');
    const worker = new Worker(QUEUE, (job: { data: { k?: number } }) => ctx.handle(job.data), {
      connection: redisConnection(ctx.redisUrl),
      prefix: BULL_PREFIX,
      concurrency: ctx.concurrency,
    });
    await worker.waitUntilReady();
    return () => worker.close();
  },
};

function redisConnection(url: string): { host: string; port: number; maxRetriesPerRequest: null } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
}

export const SYSTEMS: Record<SystemName, SystemDef> = {
  hostrun,
  graphile: graphile(false),
  'graphile-tuned': graphile(true),
  pgboss: pgboss(false),
  'pgboss-tuned': pgboss(true),
  bullmq,
};
