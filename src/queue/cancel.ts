import type { Queryable } from '../db/pool.ts';
import type { RunStatus } from '../core/types.ts';

// name: runCancel
// $1 run id, $2 reason. Queued: canceled at once. Claimed/running: a cancel request that the
// owning worker acts on within moments (NOTIFY hostrun_cancel), or at its next heartbeat.
// Returns the status after the call, or null when the run had already finished.
export async function runCancel(db: Queryable, runId: number, reason = 'canceled'): Promise<RunStatus | null> {
  const { rows } = await db.query<{ status: RunStatus | null }>(`SELECT hostrun.cancel_run($1, $2) AS status`, [runId, reason]);
  return rows[0]?.status ?? null;
}
