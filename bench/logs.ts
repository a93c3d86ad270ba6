// Log benchmark (npm run bench:logs): one step writes BENCH_LOG_MB (default 1024) MB to
// stdout in 100-byte lines; reports MB/s stored in run_logs and the worker's peak RSS
// (sampled every 50 ms in this process, which holds only the worker). The per-run log cap
// is raised above the output size so everything is stored.
import { openBenchDatabase } from './bench-db.ts';
import { parseJobSpec } from '../src/core/spec.ts';
import { jobApply } from '../src/db/jobs.ts';
import { projectIdBySlug } from '../src/db/projects.ts';
import { runsEnqueue } from '../src/queue/enqueue.ts';
import { startWorker } from '../src/worker/worker.ts';

const MB = Number(process.env.BENCH_LOG_MB ?? 1024);

const db = await openBenchDatabase('hostrun_bench_logs');
const { pool, url, home } = db;
try {
  // 99 characters and a newline per line; head -c cuts the stream at exactly MB MiB.
  // `yes` ends by SIGPIPE when head has enough, which pipefail would report as a failure.
  const source = `name: bench-logs\nsteps:\n  - run: |\n      { yes "$(printf 'x%.0s' $(seq 1 99))" || true; } | head -c ${MB * 1024 * 1024}\n`;
  const spec = parseJobSpec(source);
  const projectId = (await projectIdBySlug(pool, 'default'))!;
  const { job } = await jobApply(pool, { projectId, spec, source });
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  // Where the RSS goes: the JS heap, and buffers outside it (pipe chunks, flush buffers).
  let peakHeap = 0;
  let peakExternal = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapTotal);
    peakExternal = Math.max(peakExternal, m.external);
  }, 50);
  const worker = await startWorker({ pool, databaseUrl: url, concurrency: 1, home, maxLogBytesPerRun: (MB + 64) * 1024 * 1024 });
  const [id] = await runsEnqueue(pool, [{ projectId, job: { id: job.id, name: job.name, version: job.version, spec }, inputs: {}, trigger: 'api' }]);
  for (;;) {
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM hostrun.runs WHERE id = $1', [id]);
    if (['succeeded', 'failed'].includes(rows[0]!.status)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  clearInterval(sampler);
  await worker.stop();
  const { rows } = await pool.query<{ secs: number; bytes: number; lines: number; status: string }>(
    `SELECT extract(epoch FROM finished_at - started_at) AS secs, status,
            (SELECT sum(length(text) + 1) FROM hostrun.run_logs WHERE run_id = $1 AND stream = 'stdout') AS bytes,
            (SELECT count(*) FROM hostrun.run_logs WHERE run_id = $1) AS lines
       FROM hostrun.runs WHERE id = $1`,
    [id],
  );
  const r = rows[0]!;
  console.log(`run ${r.status}: ${(Number(r.bytes) / 2 ** 20).toFixed(0)} MiB in ${r.lines} rows stored in ${Number(r.secs).toFixed(1)} s = ${(Number(r.bytes) / 2 ** 20 / Number(r.secs)).toFixed(1)} MiB/s`);
  console.log(`worker process RSS: ${(baseline / 2 ** 20).toFixed(0)} MiB before, peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
  console.log(`  peaks: JS heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB, external buffers ${(peakExternal / 2 ** 20).toFixed(0)} MiB`);
} finally {
  await db.close();
}
