import type { Queryable } from './pool.ts';

// Workers and agents as they report themselves (registered and heartbeated by src/worker/).

export interface WorkerRow {
  id: string;
  kind: 'worker' | 'agent';
  hostname: string;
  pid: number | null;
  labels: string[];
  concurrency: number;
  version: string | null;
  started_at: Date;
  last_heartbeat_at: Date;
  stopped_at: Date | null;
  /** Runs it holds right now (claimed or running). */
  active_runs: number;
}

// name: workersList
// $1 include workers that stopped or went silent this long ago at most (seconds).
const WORKERS_LIST_SQL = `
SELECT w.id, w.kind, w.hostname, w.pid, w.labels, w.concurrency, w.version, w.started_at,
       w.last_heartbeat_at, w.stopped_at,
       (SELECT count(*)::int FROM hostrun.run_leases l WHERE l.worker_id = w.id) AS active_runs
  FROM hostrun.workers w
 WHERE w.last_heartbeat_at > now() - make_interval(secs => $1)
 ORDER BY w.last_heartbeat_at DESC, w.id`;

export async function workersList(db: Queryable, recentSeconds: number): Promise<WorkerRow[]> {
  const { rows } = await db.query<WorkerRow>(WORKERS_LIST_SQL, [recentSeconds]);
  return rows;
}
