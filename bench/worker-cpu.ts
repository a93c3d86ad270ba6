// Worker CPU per run (npm run bench:worker): the real worker loop (claim, local queue, execute
// steps, batched starts and completions) at concurrency 24, with the database replaced by an
// in-memory answer to each protocol statement. Parameters still go through the driver's own
// encoding (pg's prepareValue), so what is measured is the worker and what it sends, without
// PostgreSQL, the network or the driver's result parsing: the part of a run's cost that
// Hostrun's own JavaScript decides. CPU time comes from process.cpuUsage(), so the figure
// holds on a busy machine where throughput does not.
//
// Env: BENCH_RUNS (200,000), BENCH_SPEC (a job's YAML; default one `uses: noop` step). The
// worker's LISTEN connection needs a PostgreSQL: DATABASE_URL's, or an embedded one.
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseJobSpec } from '../src/core/spec.ts';
import type { Pool } from '../src/db/pool.ts';
import { startWorker } from '../src/worker/worker.ts';
import { benchServer, scratchHome } from './bench-db.ts';

// The driver's parameter encoding, from the same pg the product loads (bench/ has its own copy).
const pgUtils = createRequire(new URL('../src/db/pool.ts', import.meta.url))('pg/lib/utils.js') as { prepareValue(value: unknown): unknown };

const RUNS = Number(process.env.BENCH_RUNS ?? 200_000);
const spec = parseJobSpec(process.env.BENCH_SPEC ?? 'name: bench-noop\nsteps:\n  - uses: noop\n');

/** Answers the worker's statements from memory; resolves `done` once every run is completed. */
function fakePool(runs: number) {
  let nextId = 1;
  let left = runs;
  let completed = 0;
  let failed = 0;
  let finish = () => {};
  const done = new Promise<{ failed: number }>((resolve) => (finish = () => resolve({ failed })));
  // The driver answers on a later turn of the event loop; so does this.
  const later = <T>(value: T) => new Promise<T>((resolve) => setImmediate(() => resolve(value)));
  const pool = {
    async query(text: string, params: unknown[] = []) {
      for (const p of params) pgUtils.prepareValue(p);
      if (text.includes('claim_runs')) {
        const limit = params[2] as number;
        const start = params[4] as number;
        const rows = [];
        for (let i = 0; i < limit && left > 0; i++, left--) {
          rows.push({ id: nextId++, project_id: 'p', job_id: 'j', job_name: spec.name, job_version: 1, trigger: 'api', inputs: {}, target: 'local',
            priority: 0, attempt: 1, max_attempts: 1, timeout_seconds: null, spec: null, started: i < start, log_seq: 0 });
        }
        return later({ rows });
      }
      if (text.includes('complete_runs_json')) {
        const batch = JSON.parse(params[1] as string) as { id: number; status: string }[];
        completed += batch.length;
        failed += batch.filter((c) => c.status !== 'succeeded').length;
        if (completed >= runs) setImmediate(finish);
        return later({ rows: batch.map((c) => ({ id: c.id, status: c.status })) });
      }
      if (text.includes('start_runs')) return later({ rows: (params[1] as number[]).map((id) => ({ id, log_seq: 0 })) });
      if (text.includes('job_versions')) return later({ rows: [{ job_id: 'j', version: 1, spec }] });
      return later({ rows: [], rowCount: 0 });
    },
    connect() {
      throw new Error('the worker-cpu benchmark answers statements only (no transactions)');
    },
    on() {},
  };
  return { pool: pool as unknown as Pool, done };
}

async function main(): Promise<void> {
  const server = await benchServer();
  const home = scratchHome('hostrun-bench-worker');
  try {
    const { pool, done } = fakePool(RUNS);
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const worker = await startWorker({ pool, databaseUrl: server.url, concurrency: 24, home, pollMs: 1000 });
    const { failed } = await done;
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - wall0;
    await worker.stop();
    if (failed > 0) throw new Error(`${failed} runs did not succeed`);
    console.log(
      `${RUNS.toLocaleString('en-US')} runs, 1 worker x 24: ${((cpu.user + cpu.system) / RUNS).toFixed(1)} µs of worker CPU per run ` +
        `(${(RUNS / (wall / 1000)).toFixed(0)} runs/s with nothing to wait for)`,
    );
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
