// Queue benchmark (npm run bench:queue).
//
// 1. Burn-down: N no-op runs (one `uses: noop` step) enqueued in one statement, then one
//    worker at concurrency 16 starts; throughput = N / (last completion - worker ready),
//    both read from the database clock. Full history is kept (runs with their step states, run_events).
// 2. Pickup latency: one run at a time into an idle worker (concurrency 1); latency =
//    started_at - created_at of each run (database clock), after warm-up runs.
//
// Uses DATABASE_URL (a database named hostrun_bench is recreated on that server) or an
// embedded PostgreSQL in a temporary directory. Options: BENCH_RUNS (10000), BENCH_REPEATS (3),
// BENCH_SAMPLES (500), BENCH_WARMUP (50), BENCH_CONCURRENCY (16).
import { cpus, totalmem } from 'node:os';
import pg from 'pg';
import { createPool, type Pool } from '../src/db/pool.ts';
import { median, openBenchDatabase } from './bench-db.ts';
import { parseJobSpec } from '../src/core/spec.ts';
import { jobApply } from '../src/db/jobs.ts';
import { projectIdBySlug } from '../src/db/projects.ts';
import { runsEnqueue, type EnqueueRequest } from '../src/queue/enqueue.ts';
import { startWorker } from '../src/worker/worker.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 10_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 500);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 50);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

async function main(): Promise<void> {
  const db = await openBenchDatabase('hostrun_bench');
  const { pool, url, home } = db;
  try {
    const version = (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; PostgreSQL ${version}${db.embedded ? ' (embedded)' : ''}`);

    const source = 'name: bench-noop\nsteps:\n  - uses: noop\n';
    const spec = parseJobSpec(source);
    const projectId = (await projectIdBySlug(pool, 'default'))!;
    const { job } = await jobApply(pool, { projectId, spec, source });
    const request: EnqueueRequest = {
      projectId,
      job: { id: job.id, name: job.name, version: job.version, spec },
      inputs: {},
      trigger: 'api',
    };

    const rates: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      rates.push(await burnDown(pool, url, home, request));
      console.log(`burn-down ${i + 1}/${REPEATS}: ${RUNS} runs at ${rates[i]!.toFixed(0)} runs/s`);
    }
    const latencies = await pickupLatency(pool, url, home, request);
    const s = [...latencies].sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
    const sortedRates = [...rates].sort((a, b) => a - b);
    console.log('');
    console.log(`throughput (${RUNS} no-op runs, 1 worker x ${CONCURRENCY}): median ${median(rates).toFixed(0)} runs/s (range ${sortedRates[0]!.toFixed(0)}-${sortedRates[sortedRates.length - 1]!.toFixed(0)}, ${REPEATS} repeats)`);
    console.log(`pickup latency (${SAMPLES} samples after ${WARMUP} warm-up): p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, max ${s[s.length - 1]!.toFixed(2)} ms`);
  } finally {
    await db.close();
  }
}

async function burnDown(pool: Pool, url: string, home: string, request: EnqueueRequest): Promise<number> {
  await pool.query('TRUNCATE hostrun.runs, hostrun.run_queue, hostrun.run_leases, hostrun.run_logs, hostrun.run_events CASCADE');
  await pool.query('VACUUM ANALYZE hostrun.runs');
  await runsEnqueue(pool, Array.from({ length: RUNS }, () => request));
  const workerPool = createPool(url, { max: 4 });
  const ready = (await pool.query<{ t: Date }>('SELECT clock_timestamp() AS t')).rows[0]!.t;
  const worker = await startWorker({ pool: workerPool, databaseUrl: url, concurrency: CONCURRENCY, home, pollMs: 1000 });
  await waitUntil(url, async () => {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*) AS n FROM hostrun.runs WHERE status NOT IN ('succeeded', 'failed', 'canceled', 'timed_out')`);
    return rows[0]!.n === 0;
  });
  await worker.stop();
  await workerPool.end();
  const { rows } = await pool.query<{ last: Date; failed: number }>(
    `SELECT max(finished_at) AS last, count(*) FILTER (WHERE status <> 'succeeded') AS failed FROM hostrun.runs`,
  );
  if (rows[0]!.failed > 0) throw new Error(`${rows[0]!.failed} runs did not succeed`);
  return RUNS / ((rows[0]!.last.getTime() - ready.getTime()) / 1000);
}

async function pickupLatency(pool: Pool, url: string, home: string, request: EnqueueRequest): Promise<number[]> {
  await pool.query('TRUNCATE hostrun.runs, hostrun.run_queue, hostrun.run_leases, hostrun.run_logs, hostrun.run_events CASCADE');
  const workerPool = createPool(url, { max: 4 });
  const worker = await startWorker({ pool: workerPool, databaseUrl: url, concurrency: 1, prefetch: 0, home, pollMs: 1000 });
  const samples: number[] = [];
  try {
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const [id] = await runsEnqueue(pool, [request]);
      const latency = await waitUntil(url, async () => {
        const { rows } = await pool.query<{ status: string; ms: number | null }>(
          `SELECT status, extract(epoch FROM (started_at - created_at)) * 1000 AS ms FROM hostrun.runs WHERE id = $1`,
          [id],
        );
        return rows[0]!.status === 'succeeded' ? Number(rows[0]!.ms) : undefined;
      });
      if (i >= WARMUP) samples.push(latency);
    }
  } finally {
    await worker.stop();
    await workerPool.end();
  }
  return samples;
}

/** Re-checks when runs are queued (LISTEN hostrun_queue) and every 20 ms: status changes are not notified. */
async function waitUntil<T>(url: string, check: () => Promise<T | undefined | false>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let wake = () => {};
  client.on('notification', () => wake());
  await client.query('LISTEN hostrun_queue');
  try {
    for (let i = 0; ; i++) {
      const r = await check();
      if (r !== undefined && r !== false) return r;
      if (i > 1_000_000) throw new Error('benchmark did not finish');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    await client.end();
  }
}

await main();
