// `npm run bench`: every scenario for Hostrun and its peers, side by side in one run on one
// machine, then BENCHMARKS.md at the repository root. See bench/README in BENCHMARKS.md's
// "How it was measured" section for what each figure means.
//
// Env: DATABASE_URL (a server, one database per system recreated on it; without it, an
// embedded PostgreSQL is started for the run), REDIS_URL (default redis://127.0.0.1:6379),
// BENCH_QUICK=1 (shorter windows, fewer runs: ~20 minutes), BENCH_SYSTEMS (comma list),
// BENCH_SCENARIOS (letters, default ABCDEF), BENCH_OUT (default BENCHMARKS.md).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPool } from '../src/db/pool.ts';
import { benchServer, recreateDatabase } from './bench-db.ts';
import { SYSTEMS, type SystemName } from './systems.ts';
import { burnDown, pickupLatency, steadyLoad, type Env } from './queue-scenarios.ts';
import { pgbenchCeiling } from './pgbench.ts';
import { schedulerScenario } from './scheduler-scenario.ts';
import { logsScenario } from './logs-scenario.ts';
import { apiScenario } from './api-scenario.ts';
import { writeReport, type Results } from './report.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ALL: SystemName[] = ['hostrun', 'graphile', 'graphile-tuned', 'pgboss', 'pgboss-tuned', 'bullmq'];
const requested = (process.env.BENCH_SYSTEMS?.split(',') as SystemName[] | undefined) ?? ALL;
const scenarios = process.env.BENCH_SCENARIOS ?? 'ABCDEF';
const num = (name: string, quick: number, full: number) => Number(process.env[name] ?? (QUICK ? quick : full));

export const settings = {
  quick: QUICK,
  aRuns: num('BENCH_A_RUNS', 20_000, 100_000),
  aRepeats: num('BENCH_A_REPEATS', 3, 3),
  aTimeboxMs: num('BENCH_A_TIMEBOX_MS', 30_000, 120_000),
  // B takes the full protocol's 1,000 samples even in QUICK mode: with 200, p99 was the second-
  // worst sample and moved by a millisecond or two from run to run. (Warm-up stays short: the
  // polling peers spend their whole 30 s budget on it otherwise.)
  bWarmup: num('BENCH_B_WARMUP', 20, 100),
  bSamples: num('BENCH_B_SAMPLES', 1000, 1000),
  bBudgetMs: num('BENCH_B_BUDGET_MS', 30_000, 300_000),
  cWarmupMs: num('BENCH_C_WARMUP_MS', 5_000, 60_000),
  // QUICK: three of the embedded server's autovacuum naptimes, enough to tell growth from a sawtooth.
  cMeasureMs: num('BENCH_C_MEASURE_MS', 30_000, 180_000),
  cRates: [100, 1000],
  pgbenchSeconds: num('BENCH_PGBENCH_SECONDS', 10, 30),
  dSchedules: num('BENCH_D_SCHEDULES', 10_000, 10_000),
  dCron: process.env.BENCH_D_CRON ?? (QUICK ? '*/10 * * * * *' : '0 * * * * *'),
  dMeasureMs: num('BENCH_D_MEASURE_MS', 40_000, 190_000),
  eMegabytes: num('BENCH_E_MB', 256, 1024),
  fRuns: num('BENCH_F_RUNS', 1_000_000, 1_000_000),
  fSeconds: num('BENCH_F_SECONDS', 10, 30),
};

function dbName(system: SystemName): string {
  return `bench_${system.replace(/-/g, '_')}`;
}

/** Whether something accepts connections at the Redis URL (BullMQ would wait for it forever). */
function redisReachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function main(): Promise<void> {
  const results: Results = { settings, startedAt: new Date(), a: {}, b: {}, c: {}, notes: [] };
  const log = (s: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}`);
  let systems = requested;
  if (systems.includes('bullmq') && !(await redisReachable(REDIS))) {
    systems = systems.filter((s) => s !== 'bullmq');
    results.notes.push(`BullMQ was not run: nothing answers at ${REDIS} (set REDIS_URL).`);
    log(`BullMQ left out: nothing answers at ${REDIS}`);
  }
  const server = await benchServer();
  const SERVER = server.url;
  const home = mkdtempSync(path.join(tmpdir(), 'hostrun-bench-'));
  const env = (databaseUrl: string): Env => ({ databaseUrl, redisUrl: REDIS, home });
  const fresh = async (system: SystemName) => {
    const url = SYSTEMS[system].postgres ? await recreateDatabase(SERVER, dbName(system)) : '';
    return { url, producer: await SYSTEMS[system].open(url, REDIS) };
  };
  try {
    if (scenarios.includes('A')) {
      try {
        results.ceiling = await pgbenchCeiling(SERVER, settings.pgbenchSeconds, 3);
        log(`pgbench ceiling: ${results.ceiling.tps.map((t) => t.toFixed(0)).join(', ')} TPS`);
      } catch (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'pgbench is not installed (Debian: postgresql-client)' : (err as Error).message.split('\n')[0];
        results.notes.push(`The pgbench ceiling was not measured: ${why}.`);
        log(`pgbench ceiling not measured: ${why}`);
      }
      // Repeats outermost, systems inside: the machine's noise falls on every system alike.
      for (let rep = 0; rep < settings.aRepeats; rep++) {
        for (const system of systems) {
          const { url, producer } = await fresh(system);
          try {
            for (const processes of [1, 2]) {
              const key = `${processes}x24`;
              const r = await burnDown(system, producer, env(url), { runs: settings.aRuns, processes, concurrency: 24, timeboxMs: settings.aTimeboxMs });
              ((results.a[system] ??= {})[key] ??= []).push(r);
              log(`A ${system} ${key} #${rep + 1}: ${r.rate.toFixed(0)} runs/s${r.partial ? ` (time-boxed: ${r.runs} runs in ${r.seconds.toFixed(0)} s)` : ''}, CPU per run: database ${r.databaseCpuUs.toFixed(0)} µs, workers ${r.workerCpuUs.toFixed(0)} µs`);
            }
          } finally {
            await producer.close();
          }
        }
      }
    }
    for (const system of systems) {
      if (!scenarios.includes('B') && !scenarios.includes('C')) break;
      const { url, producer } = await fresh(system);
      const pool = system === 'hostrun' ? createPool(url, { max: 4 }) : null;
      try {
        if (scenarios.includes('B')) {
          const r = await pickupLatency(system, producer, env(url), { warmup: settings.bWarmup, samples: settings.bSamples, budgetMs: settings.bBudgetMs, pool });
          results.b[system] = r;
          log(`B ${system}: ${r.samples.length} samples`);
        }
        if (scenarios.includes('C')) {
          for (const rate of settings.cRates) {
            const r = await steadyLoad(system, producer, env(url), { rate, warmupMs: settings.cWarmupMs, measureMs: settings.cMeasureMs, processes: 2, concurrency: 8, pool });
            (results.c[system] ??= []).push(r);
            log(`C ${system} @${rate}/s: achieved ${r.achieved.toFixed(0)}/s, ${r.samples.length} samples, ${r.missing} missing`);
          }
        }
      } finally {
        await pool?.end();
        await producer.close();
      }
    }
    // D, E and F are independent: one failing is reported and the others still run.
    const attempt = async (letter: string, fn: () => Promise<void>) => {
      if (!scenarios.includes(letter)) return;
      try {
        await fn();
      } catch (err) {
        results.notes.push(`Scenario ${letter} failed in this run: ${(err as Error).message.split('\n')[0]}`);
        log(`${letter} failed: ${(err as Error).stack}`);
      }
    };
    await attempt('D', async () => {
      results.d = await schedulerScenario(SERVER, home, { schedules: settings.dSchedules, cron: settings.dCron, measureMs: settings.dMeasureMs });
      log(`D hostrun: ${results.d.fires} fires, ${results.d.duplicates} duplicates, p99 ${results.d.p99.toFixed(0)} ms`);
    });
    await attempt('E', async () => {
      results.e = await logsScenario(SERVER, settings.eMegabytes);
      log(`E hostrun: ${results.e.mibPerSecond.toFixed(1)} MiB/s, peak RSS ${results.e.peakRssMiB} MiB`);
    });
    await attempt('F', async () => {
      results.f = await apiScenario(SERVER, home, { runs: settings.fRuns, seconds: settings.fSeconds });
      log(`F hostrun: p50 ${results.f.p50} ms, p99 ${results.f.p99} ms`);
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  results.finishedAt = new Date();
  const out = path.resolve(import.meta.dirname, '..', process.env.BENCH_OUT ?? 'BENCHMARKS.md');
  try {
    await writeReport(out, results, SERVER, systems, server.embedded);
  } catch (err) {
    // An hour of measurements must not go with a bug in the report: keep them to read.
    const raw = path.join(tmpdir(), `hostrun-bench-results-${Date.now()}.json`);
    writeFileSync(raw, JSON.stringify(results));
    log(`the report failed; the raw results are in ${raw}`);
    throw err;
  } finally {
    await server.stop();
  }
  log(`wrote ${out}`);
}

await main();
