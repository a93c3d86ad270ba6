// CPU time used by the database server and by a scenario's worker processes, read from
// /proc (Linux). Throughput on a shared two-core machine moves with whatever else runs; CPU
// per run does not, and it says which side of a run's cost (the database's or the worker's)
// a change moved. The database is every process named `postgres` (all backends and background
// processes: WAL writer, checkpointer, autovacuum) or `redis-server` (BullMQ's), so readings on
// a server that others use include their work too.
import { readdirSync, readFileSync } from 'node:fs';

// USER_HZ: 100 on every Linux this runs on (it is fixed by the kernel ABI, not by HZ).
const TICK_MS = 10;
const DATABASE_COMMS = new Set(['postgres', 'redis-server']);

/** utime + stime of one process in ms, or undefined when it is gone (or this is not Linux). */
export function processCpuMs(pid: number): { comm: string; ms: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm is in parentheses and may hold spaces; the fields after it are space-separated.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  // Fields 14 and 15 of the whole line (utime, stime) are 12 and 13 after "pid (comm) ".
  return { comm, ms: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
}

export interface CpuSnapshot {
  /** pid -> ms, for every database process alive at the snapshot. */
  database: Map<number, number>;
  /** pid -> ms, for the worker processes given. */
  workers: Map<number, number>;
}

export function cpuSnapshot(workerPids: number[]): CpuSnapshot {
  const database = new Map<number, number>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    // Not Linux: nothing to read; the figures come out as 0 and the report says n/a.
  }
  for (const d of pids) {
    const p = processCpuMs(Number(d));
    if (p && DATABASE_COMMS.has(p.comm)) database.set(Number(d), p.ms);
  }
  const workers = new Map<number, number>();
  for (const pid of workerPids) {
    const p = processCpuMs(pid);
    if (p) workers.set(pid, p.ms);
  }
  return { database, workers };
}

/**
 * CPU ms used between two snapshots. A process that started in between counts from zero; one
 * that ended in between is lost, so take the second snapshot before stopping anything.
 */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): { databaseMs: number; workersMs: number } {
  return { databaseMs: cpuUsedMs(before.database, after.database), workersMs: cpuUsedMs(before.workers, after.workers) };
}

/** CPU ms used between two readings of pid -> ms (a pid missing from `before` counts from zero). */
export function cpuUsedMs(before: Map<number, number>, after: Map<number, number>): number {
  return [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);
}
