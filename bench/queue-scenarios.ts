// Scenarios A (burn-down), B (idle pickup latency) and C (steady open-loop load) of
// `npm run bench`, written once against the Producer/worker interface of bench/systems.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from '../src/db/pool.ts';
import { SYSTEMS, type Producer, type SystemName, type TableStats } from './systems.ts';
import { startWorkerGroup, type WorkerGroupOptions } from './workers.ts';

export interface Env {
  databaseUrl: string;
  redisUrl: string;
  home: string;
}

// ---------------------------------------------------------------------------------------
// A. Burn-down
// ---------------------------------------------------------------------------------------

export interface BurnDown {
  runs: number;
  /** runs / (last completion - workers ready); for a time-boxed run, completed / time box. */
  rate: number;
  seconds: number;
  /** True when the time box ran out before the queue was empty. */
  partial: boolean;
  /** CPU µs per completed run, of the database server and of the worker processes, from go to drained. */
  databaseCpuUs: number;
  workerCpuUs: number;
}

/** `producer` must be freshly reset. Throughput = runs / (last completion - all workers ready). */
export async function burnDown(
  system: SystemName,
  producer: Producer,
  env: Env,
  o: { runs: number; processes: number; concurrency: number; timeboxMs: number },
): Promise<BurnDown> {
  await producer.reset();
  await producer.enqueueMany(o.runs, 'noop');
  const group = await startWorkerGroup({ system, task: 'noop', processes: o.processes, concurrency: o.concurrency, ...env });
  const ready = group.goAt;
  let left = o.runs;
  let polledAt = ready;
  try {
    // Polled every 100 ms; the end time itself comes from the system's own record where it
    // keeps one, else from the handlers' last return (reported by the worker processes).
    while (Date.now() - ready < o.timeboxMs) {
      left = await producer.unfinished();
      polledAt = Date.now();
      if (left === 0) break;
      await sleep(100);
    }
    const cpu = group.cpuSinceGo();
    const stats = await group.stats();
    const done = o.runs - left;
    const perRun = { databaseCpuUs: (cpu.databaseMs * 1000) / Math.max(done, 1), workerCpuUs: (cpu.workersMs * 1000) / Math.max(done, 1) };
    if (left > 0) {
      return { runs: done, rate: done / ((polledAt - ready) / 1000), seconds: (polledAt - ready) / 1000, partial: true, ...perRun };
    }
    const end = (await producer.lastFinishedAt()) ?? Math.max(...stats.map((s) => s.lastAt));
    const seconds = (end - ready) / 1000;
    return { runs: o.runs, rate: o.runs / seconds, seconds, partial: false, ...perRun };
  } finally {
    await group.stop();
  }
}

// ---------------------------------------------------------------------------------------
// B. Idle pickup latency
// ---------------------------------------------------------------------------------------

export interface Latencies {
  samples: number[];
  /** Jobs sent that never started within the scenario. */
  missing: number;
}

/**
 * One worker process at concurrency 1, queue empty; per sample: note the time, add one job,
 * wait until its handler (Hostrun: its step) starts, then until it finished, so the worker
 * is idle again. Latency = handler/step start - time before the add call.
 */
export async function pickupLatency(
  system: SystemName,
  producer: Producer,
  env: Env,
  o: { warmup: number; samples: number; budgetMs: number; pool: Pool | null },
): Promise<Latencies> {
  await producer.reset();
  const group = await startWorkerGroup({ system, task: 'noop', processes: 1, concurrency: 1, reportStarts: true, ...env });
  const starts = new Map<number, number>();
  let wake = () => {};
  group.onStart((key, at) => {
    starts.set(key, at);
    wake();
  });
  const hostrunWait = system === 'hostrun' ? hostrunWaiter(o.pool!) : null;
  const samples: number[] = [];
  const began = Date.now();
  try {
    for (let i = 0; i < o.warmup + o.samples && Date.now() - began < o.budgetMs; i++) {
      const sent = Date.now();
      await producer.enqueueOne('noop', i);
      let startedAt: number;
      if (hostrunWait) {
        startedAt = await hostrunWait(i);
      } else {
        const deadline = Date.now() + 30_000;
        while (!starts.has(i) && Date.now() < deadline) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 100);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
        }
        if (!starts.has(i)) throw new Error(`${system}: job ${i} did not start within 30 s`);
        startedAt = starts.get(i)!;
        for (let j = 0; j < 3000 && (await producer.unfinished()) > 0; j++) await sleep(2);
      }
      if (i >= o.warmup) samples.push(startedAt - sent);
    }
  } finally {
    await group.stop();
  }
  return { samples, missing: 0 };
}

/**
 * Waits for the run with inputs.k = key to succeed and returns its step's start. Status changes
 * are not notified (migrations/0007_quiet_transitions.sql): it re-reads every 2 ms, as the peers'
 * loop above does once their handler reported its start. Like theirs, it puts no queries on the
 * database while the run is being picked up: it first waits 5 ms (the step's start time comes
 * from its record, so waiting longer delays only the next sample, not the latency measured).
 * Polling from the first millisecond cost Hostrun's samples ~0.3 ms on this 2-core machine.
 */
function hostrunWaiter(pool: Pool): (key: number) => Promise<number> {
  return async (key: number): Promise<number> => {
    await sleep(5);
    for (let i = 0; i < 15_000; i++) {
      const { rows } = await pool.query<{ status: string; started: number | null }>(
        `SELECT r.status, (r.steps->0->>'started_at')::float8 AS started FROM hostrun.runs r
          WHERE r.id = (SELECT max(id) FROM hostrun.runs) AND (r.inputs->>'k')::int = $1`,
        [key],
      );
      const r = rows[0];
      if (r && r.status !== 'queued' && r.status !== 'claimed' && r.status !== 'running') {
        if (r.status !== 'succeeded' || !r.started) throw new Error(`hostrun run ${key} ended ${r.status}`);
        return r.started;
      }
      await sleep(2);
    }
    throw new Error(`hostrun run ${key} did not finish`);
  };
}

// ---------------------------------------------------------------------------------------
// C. Steady load
// ---------------------------------------------------------------------------------------

export interface SteadyLoad extends Latencies {
  rate: number;
  sent: number;
  achieved: number;
  /** Producer calls that failed, and the first failure's message. */
  errors: number;
  firstError: string | null;
  statsBefore: TableStats;
  statsAfter: TableStats;
  /** The most dead tuples seen in the window (read about once a second), or null where not Postgres. */
  deadMax: number | null;
}

/**
 * An open-loop producer: job k is due at start + k / rate, sent when due however far behind
 * the system is, each in its own call (no batching by the producer); latency is measured
 * from the intended send time, so a stalled system cannot hide its queueing (no coordinated
 * omission). Workers: `processes` x `concurrency`, each job sleeping 5 ms in-process.
 */
export async function steadyLoad(
  system: SystemName,
  producer: Producer,
  env: Env,
  o: { rate: number; warmupMs: number; measureMs: number; processes: number; concurrency: number; pool: Pool | null },
): Promise<SteadyLoad> {
  await producer.reset();
  const opts: WorkerGroupOptions = { system, task: 'sleep5', processes: o.processes, concurrency: o.concurrency, ...env };
  const group = await startWorkerGroup(opts);
  const start = Date.now() + 100;
  const measureFrom = start + o.warmupMs;
  const measureTo = measureFrom + o.measureMs;
  const interval = 1000 / o.rate;
  let statsBefore: TableStats = { deadTuples: null, bytes: 0, vacuums: null };
  // Dead tuples are a sawtooth where autovacuum runs: the start and end of the window alone
  // cannot tell growth from a tooth, so they are also read about once a second.
  let deadMax: number | null = null;
  let nextRead = measureFrom;
  let reading: Promise<void> | null = null;
  let k = 0;
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  let errors = 0;
  let firstError: string | null = null;
  // The window's first reading goes on beside the sends: awaiting it in this loop held back
  // every job due meanwhile, and their lateness was counted against the system measured.
  let statsStart: Promise<TableStats> | null = null;
  try {
    while (Date.now() < measureTo) {
      const now = Date.now();
      for (; start + k * interval <= now && start + k * interval < measureTo; k++) {
        const intended = start + k * interval;
        if (intended >= measureFrom && intended < measureTo) sent++;
        const p = producer.enqueueOne('sleep5', intended).catch((err: Error) => {
          errors++;
          firstError ??= err.message;
        });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      if (!statsStart && now >= measureFrom) statsStart = producer.stats();
      if (now >= nextRead && !reading) {
        nextRead += 1000;
        reading = producer.stats().then(
          (st) => {
            if (st.deadTuples !== null) deadMax = Math.max(deadMax ?? 0, st.deadTuples);
            reading = null;
          },
          () => {
            reading = null;
          },
        );
      }
      // Bounded: a producer that cannot keep up still stops at measureTo.
      await sleep(inFlight.size > 2000 ? 5 : 1);
    }
    await Promise.all([...inFlight]);
    await reading;
    if (statsStart) statsBefore = await statsStart;
    const statsAfter = await producer.stats();
    if (statsAfter.deadTuples !== null) deadMax = Math.max(deadMax ?? 0, statsAfter.deadTuples, statsBefore.deadTuples ?? 0);
    // Let what was sent start (up to 30 s), so slow systems show their tail instead of losing it.
    for (let i = 0; i < 300 && (await producer.unfinished()) > 0; i++) await sleep(100);
    const starts: [number, number][] =
      system === 'hostrun' ? await hostrunStarts(o.pool!, measureFrom, measureTo) : (await group.stats()).flatMap((s) => s.starts);
    const measured = starts.filter(([t]) => t >= measureFrom && t < measureTo);
    const achieved = starts.filter(([, at]) => at >= measureFrom && at < measureTo).length / (o.measureMs / 1000);
    return {
      samples: measured.map(([t, at]) => at - t),
      missing: sent - measured.length,
      errors,
      firstError,
      rate: o.rate,
      sent,
      achieved,
      statsBefore,
      statsAfter,
      deadMax,
    };
  } finally {
    await group.stop();
  }
}

async function hostrunStarts(pool: Pool, from: number, to: number): Promise<[number, number][]> {
  const { rows } = await pool.query<{ t: number; at: number }>(
    `SELECT (r.inputs->>'k')::float8 AS t, (r.steps->0->>'started_at')::float8 AS at
       FROM hostrun.runs r
      WHERE (r.inputs->>'k')::float8 >= $1 AND (r.inputs->>'k')::float8 < $2 AND r.steps->0->>'started_at' IS NOT NULL`,
    [from, to],
  );
  return rows.map((r) => [Number(r.t), Number(r.at)]);
}

export { SYSTEMS };
