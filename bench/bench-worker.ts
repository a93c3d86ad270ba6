// One worker process of `npm run bench` (forked by bench/workers.ts), for any of the systems
// compared. Env: SYSTEM, TASK (noop | sleep5), CONCURRENCY, DATABASE_URL (Postgres systems),
// REDIS_URL (bullmq), HOSTRUN_HOME (hostrun). Speaks to its parent over IPC:
//   -> { type: 'ready' } once loaded (modules imported and compiled), before any worker starts
//   <- { type: 'go' }   starts the worker (so every process of a group starts together)
//   -> { type: 'start', key, at } per job when REPORT_STARTS=1 (pickup latency)
//   <- { type: 'stats' }  -> { type: 'stats', handled, lastAt, starts: [key, at][] }
//   <- { type: 'stop' }   -> stops its worker and exits
// `key` is the job's payload `k` (a sample number, or the producer's intended send time in
// ms); `at` is when the handler began (Date.now(), the same clock as the parent's).
// Hostrun reports nothing per job: its step start times are read from runs.steps.
import { setTimeout as sleep } from 'node:timers/promises';
import { SYSTEMS, type SystemName } from './systems.ts';

const system = process.env.SYSTEM as SystemName;
const task = process.env.TASK === 'sleep5' ? 'sleep5' : 'noop';
const concurrency = Number(process.env.CONCURRENCY ?? 1);
const reportStarts = process.env.REPORT_STARTS === '1';
const send = (m: unknown) => process.send?.(m);

let handled = 0;
let lastAt = 0;
const starts: [number, number][] = [];

async function handle(payload: { k?: number } | undefined): Promise<void> {
  const at = Date.now();
  const key = payload?.k;
  if (key !== undefined) {
    if (reportStarts) send({ type: 'start', key, at });
    else starts.push([key, at]);
  }
  if (task === 'sleep5') await sleep(5);
  handled++;
  lastAt = Date.now();
}

const def = SYSTEMS[system];
if (!def) throw new Error(`unknown SYSTEM ${system}`);
// Load the peer's package now, so "go" measures starting a worker, not compiling it.
if (def.pkg) await import(def.pkg);
let stop: (() => Promise<void>) | null = null;

// If the parent dies, so do we: nothing outlives the benchmark.
process.on('disconnect', () => process.exit(0));
process.on('message', (m: { type: string }) => {
  if (m.type === 'go') {
    void def
      .startWorker({
        databaseUrl: process.env.DATABASE_URL ?? '',
        redisUrl: process.env.REDIS_URL ?? '',
        home: process.env.HOSTRUN_HOME ?? '',
        concurrency,
        task,
        handle,
      })
      .then((s) => {
        stop = s;
        send({ type: 'started' });
      });
  }
  if (m.type === 'stats') send({ type: 'stats', handled, lastAt, starts });
  if (m.type === 'stop') {
    const force = setTimeout(() => process.exit(0), 15_000);
    force.unref();
    void (stop ?? (async () => {}))().finally(() => process.exit(0));
  }
});
send({ type: 'ready' });
