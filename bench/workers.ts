// Worker processes for a benchmark: fork N bench/bench-worker.ts children of one system,
// wait until all say ready, ask them for their counters, stop them. Every child is killed
// if it does not stop in time, so nothing outlives a scenario.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpuBetween, cpuSnapshot, type CpuSnapshot } from './proc-cpu.ts';
import type { SystemName, Task } from './systems.ts';

const ENTRY = fileURLToPath(new URL('./bench-worker.ts', import.meta.url));

export interface ChildStats {
  handled: number;
  lastAt: number;
  starts: [number, number][];
}

export interface WorkerGroup {
  /** When every process had loaded and was told to start its worker (Date.now()). */
  goAt: number;
  /** Per-job start reports (REPORT_STARTS): key -> handler start time. */
  onStart(cb: (key: number, at: number) => void): void;
  stats(): Promise<ChildStats[]>;
  /** CPU ms used since go by the database server and by these worker processes (bench/proc-cpu.ts). */
  cpuSinceGo(): { databaseMs: number; workersMs: number };
  stop(): Promise<void>;
}

export interface WorkerGroupOptions {
  system: SystemName;
  task: Task;
  processes: number;
  concurrency: number;
  databaseUrl: string;
  redisUrl: string;
  home: string;
  reportStarts?: boolean;
}

export async function startWorkerGroup(o: WorkerGroupOptions): Promise<WorkerGroup> {
  let onStart: (key: number, at: number) => void = () => {};
  let goAt = 0;
  let cpuAtGo: CpuSnapshot | undefined;
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < o.processes; i++) {
    const child = fork(ENTRY, [], {
      // BENCH_WORKER_CPU_PROF=<dir>: a V8 CPU profile of every worker process, written there on stop.
      // BENCH_WORKER_NODE_FLAGS: more Node flags for the worker processes (--trace-gc, heap sizes).
      execArgv: ['--import', 'tsx', ...(process.env.BENCH_WORKER_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...(process.env.BENCH_WORKER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WORKER_CPU_PROF}`] : [])],
      env: {
        ...process.env,
        SYSTEM: o.system,
        TASK: o.task,
        CONCURRENCY: String(o.concurrency),
        DATABASE_URL: o.databaseUrl,
        REDIS_URL: o.redisUrl,
        HOSTRUN_HOME: o.home,
        REPORT_STARTS: o.reportStarts ? '1' : '0',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    child.on('message', (m: { type: string; key?: number; at?: number }) => {
      if (m.type === 'start') onStart(m.key!, m.at!);
    });
    ready.push(
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${o.system} worker not ready after 60 s`)), 60_000);
        child.on('message', (m: { type: string }) => {
          if (m.type === 'ready') {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`${o.system} worker exited with ${code} before it was ready`));
        });
      }),
    );
  }
  const killAll = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  try {
    await Promise.all(ready);
    const started = children.map((c) => new Promise<void>((resolve) => c.on('message', (m: { type: string }) => m.type === 'started' && resolve())));
    cpuAtGo = cpuSnapshot(children.map((c) => c.pid!));
    for (const c of children) c.send({ type: 'go' });
    // Callers measure from here: every process loaded and told to start at once.
    goAt = Date.now();
    await Promise.race([Promise.all(started), new Promise((_, reject) => setTimeout(() => reject(new Error(`${o.system} worker did not start within 60 s`)), 60_000).unref())]);
  } catch (err) {
    killAll();
    throw err;
  }
  return {
    goAt,
    onStart(cb) {
      onStart = cb;
    },
    async stats() {
      return Promise.all(
        children.map(
          (c) =>
            new Promise<ChildStats>((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error('worker did not answer stats')), 30_000);
              const on = (m: ChildStats & { type: string }) => {
                if (m.type !== 'stats') return;
                clearTimeout(timer);
                c.off('message', on);
                resolve(m);
              };
              c.on('message', on);
              c.send({ type: 'stats' });
            }),
        ),
      );
    },
    cpuSinceGo() {
      return cpuBetween(cpuAtGo!, cpuSnapshot(children.map((c) => c.pid!)));
    },
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
              c.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              c.send({ type: 'stop' });
            }),
        ),
      );
    },
  };
}
