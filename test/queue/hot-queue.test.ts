import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCancel } from '../../src/queue/cancel.ts';
import { runsClaim, runsComplete, runsReap, runsRelease, workerHeartbeat } from '../../src/queue/protocol.ts';
import { reportStatus } from '../../src/db/reports.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { applyJob, enqueueRuns, type AppliedJob } from '../support/fixtures.ts';

// The queue's moving parts live in run_queue (queued runs) and run_leases (runs a worker holds),
// kept in step with runs.status by the status triggers (migrations/0013_hot_queue.sql). These
// tests drive the protocol by hand and check, after every move, that the two tables hold
// exactly what the runs' statuses say.

let db: TestDatabase;
let job: AppliedJob;

beforeAll(async () => {
  db = await createTestDatabase();
  job = await applyJob(db.pool, 'name: hot\nretries: 2\nsteps:\n  - uses: noop\n');
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

/** Runs whose queue/lease rows disagree with their status; empty when all is in step. */
async function outOfStep(): Promise<unknown[]> {
  const { rows } = await db.pool.query(`
    SELECT r.id, r.status::text AS status, q.run_id IS NOT NULL AS in_queue, l.run_id IS NOT NULL AS leased, l.worker_id, r.worker_id AS run_worker
      FROM hostrun.runs r
      LEFT JOIN hostrun.run_queue q ON q.run_id = r.id
      LEFT JOIN hostrun.run_leases l ON l.run_id = r.id
     WHERE (r.status = 'queued') <> (q.run_id IS NOT NULL)
        OR (l.run_id IS NOT NULL AND (r.status NOT IN ('claimed', 'running') OR l.worker_id IS DISTINCT FROM r.worker_id))
        OR (r.status IN ('claimed', 'running') AND r.worker_id IS NOT NULL AND l.run_id IS NULL)
    UNION ALL
    SELECT q.run_id, 'orphan queue row', true, false, NULL, NULL FROM hostrun.run_queue q WHERE NOT EXISTS (SELECT 1 FROM hostrun.runs r WHERE r.id = q.run_id)
    UNION ALL
    SELECT l.run_id, 'orphan lease', false, true, l.worker_id, NULL FROM hostrun.run_leases l WHERE NOT EXISTS (SELECT 1 FROM hostrun.runs r WHERE r.id = l.run_id)`);
  return rows;
}

const claim = (workerId: string, limit: number, start = 0) => runsClaim(db.pool, { workerId, labels: [], limit, leaseSeconds: 30, start });
/** A completion; a run claimed without starting carries its start time with it, as the worker's does. */
const done = (run: { id: number; attempt: number; started?: boolean }, status: 'succeeded' | 'failed' = 'succeeded', retryInSeconds: number | null = null) => ({
  id: run.id,
  attempt: run.attempt,
  ...(run.started === false && { startedAt: Date.now() }),
  status,
  exitCode: status === 'succeeded' ? 0 : 1,
  error: status === 'succeeded' ? null : 'boom',
  outputs: null,
  retryInSeconds,
});

describe('run_queue and run_leases follow the run status', () => {
  it('through enqueue, claim, start, retry, release, completion and cancel', async () => {
    const ids = await enqueueRuns(db.pool, job, 6);
    expect(await outOfStep()).toEqual([]);
    const { rows: queued } = await db.pool.query(`SELECT count(*)::int AS n FROM hostrun.run_queue WHERE run_id = ANY($1)`, [ids]);
    expect(queued[0].n).toBe(6);

    // Claim 4 (2 started at once): they leave the queue and hold leases of this worker.
    const claimed = await claim('w1', 4, 2);
    expect(claimed.map((r) => r.id)).toEqual(ids.slice(0, 4));
    expect(claimed.map((r) => r.started)).toEqual([true, true, false, false]);
    expect(await outOfStep()).toEqual([]);
    const { rows: leases } = await db.pool.query(`SELECT run_id, worker_id FROM hostrun.run_leases ORDER BY run_id`);
    expect(leases).toEqual(ids.slice(0, 4).map((id) => ({ run_id: id, worker_id: 'w1' })));

    // A failure with attempts left goes back to the queue, due after its backoff.
    const [a, b, c, d] = claimed;
    const outcome = await runsComplete(db.pool, 'w1', [done(a!, 'failed', 3600), done(b!)]);
    expect(outcome.get(a!.id)).toBe('queued');
    expect(outcome.get(b!.id)).toBe('succeeded');
    expect(await outOfStep()).toEqual([]);
    const { rows: later } = await db.pool.query(`SELECT run_after > now() + interval '50 minutes' AS later FROM hostrun.run_queue WHERE run_id = $1`, [a!.id]);
    expect(later[0].later).toBe(true);

    // A shutdown hands c and d back; a queued run canceled leaves the queue.
    expect(await runsRelease(db.pool, 'w1', [c!, d!])).toHaveLength(2);
    expect(await runCancel(db.pool, ids[5]!)).toBe('canceled');
    expect(await outOfStep()).toEqual([]);

    // What is due now: c, d, ids[4] (a waits for its backoff; ids[5] is canceled).
    const again = await claim('w2', 10, 10);
    expect(again.map((r) => r.id).sort((x, y) => x - y)).toEqual([c!.id, d!.id, ids[4]!]);
    expect(await outOfStep()).toEqual([]);
    const status = await reportStatus(db.pool, job.projectId);
    expect({ queued: status.queued, claimed: status.claimed, running: status.running }).toEqual({ queued: 1, claimed: 0, running: 3 });

    await runsComplete(db.pool, 'w2', again.map((r) => done(r)));
    expect(await outOfStep()).toEqual([]);
    const { rows: left } = await db.pool.query(`SELECT (SELECT count(*) FROM hostrun.run_leases)::int AS leases, (SELECT array_agg(run_id::int) FROM hostrun.run_queue) AS queue`);
    expect(left[0]).toEqual({ leases: 0, queue: [a!.id] });
  });

  it('a lease that runs out is reaped through run_leases; heartbeats keep only the holder\'s leases alive', async () => {
    await db.pool.query(`DELETE FROM hostrun.runs`);
    const [id, other] = await enqueueRuns(db.pool, job, 2);
    const [run, held] = await claim('stalled', 2, 2);
    expect(run!.id).toBe(id);
    // Another worker's heartbeat does not extend these leases; the holder's does.
    expect((await workerHeartbeat(db.pool, 'someone-else', [id!, other!], 30)).size).toBe(0);
    expect([...(await workerHeartbeat(db.pool, 'stalled', [id!, other!], 30)).keys()].sort()).toEqual([id, other].sort());
    // Backdate one lease past its expiry: only that run is reaped, and comes back for attempt 2.
    await db.pool.query(`UPDATE hostrun.run_leases SET lease_expires_at = now() - interval '1 second' WHERE run_id = $1`, [id]);
    const reaped = await runsReap(db.pool);
    expect(reaped).toEqual([{ id, status: 'queued' }]);
    expect(await outOfStep()).toEqual([]);
    const [retaken] = await claim('rescuer', 1, 1);
    expect({ id: retaken!.id, attempt: retaken!.attempt }).toEqual({ id, attempt: 2 });
    // The stalled worker's late completion is fenced off; the rescuer's lands.
    expect((await runsComplete(db.pool, 'stalled', [done({ id: id!, attempt: 1 })])).size).toBe(0);
    expect((await runsComplete(db.pool, 'rescuer', [done(retaken!), done(held!)])).get(id!)).toBe('succeeded');
    expect((await runsComplete(db.pool, 'stalled', [done(held!)])).get(held!.id)).toBe('succeeded');
    expect(await outOfStep()).toEqual([]);
  });

  it('claims and cancels racing over the same runs neither deadlock nor leave the tables out of step', async () => {
    await db.pool.query(`DELETE FROM hostrun.runs`);
    const ids = await enqueueRuns(db.pool, job, 600);
    const claimers = Array.from({ length: 3 }, async (_, w) => {
      let got = 0;
      for (let round = 0; round < 400; round++) {
        const runs = await claim(`racer-${w}`, 20, 5);
        got += runs.length;
        if (runs.length > 0) await runsComplete(db.pool, `racer-${w}`, runs.map((r) => done(r)));
        else if ((await db.pool.query(`SELECT 1 FROM hostrun.run_queue LIMIT 1`)).rowCount === 0) break;
      }
      return got;
    });
    // Cancelers take every other run in their own order, so they keep meeting runs a claim has
    // just locked in run_queue.
    const cancelers = Array.from({ length: 4 }, async (_, c) => {
      let canceled = 0;
      const mine = ids.filter((_, i) => i % 2 === 0 && (i / 2) % 4 === c);
      for (const id of c % 2 ? mine.reverse() : mine) if ((await runCancel(db.pool, id)) === 'canceled') canceled++;
      return canceled;
    });
    const [claimedCounts, canceledCounts] = await Promise.all([Promise.all(claimers), Promise.all(cancelers)]);
    const claimedTotal = claimedCounts.reduce((s, n) => s + n, 0);
    const canceled = canceledCounts.reduce((s, n) => s + n, 0);
    const { rows } = await db.pool.query(`SELECT status, count(*)::int AS n FROM hostrun.runs WHERE id = ANY($1) GROUP BY status`, [ids]);
    const by = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    // Every run was either claimed and finished, or canceled while queued; none twice, none lost.
    expect(by.succeeded ?? 0).toBe(claimedTotal);
    expect((by.succeeded ?? 0) + (by.canceled ?? 0)).toBe(600);
    expect(canceled).toBe(by.canceled ?? 0);
    expect(await outOfStep()).toEqual([]);
  });

  it('a cancel waits for a claim that holds the run\'s queue row instead of deadlocking with it', async () => {
    await db.pool.query(`DELETE FROM hostrun.runs`);
    const [id] = await enqueueRuns(db.pool, job, 1);
    const claimer = new pg.Client({ connectionString: db.url });
    const canceler = new pg.Client({ connectionString: db.url });
    await Promise.all([claimer.connect(), canceler.connect()]);
    try {
      // What claim_runs does, split in two: lock the queue row, then (later) update the run.
      await claimer.query('BEGIN');
      await claimer.query(`SELECT run_id FROM hostrun.run_queue WHERE run_id = $1 FOR UPDATE SKIP LOCKED`, [id]);
      const pid = (await canceler.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const cancel = canceler.query<{ status: string }>(`SELECT hostrun.cancel_run($1) AS status`, [id]);
      // Once the cancel is blocked on a lock, the claim updates the run.
      await waitUntil(async () => (await db.pool.query(`SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1`, [pid])).rows[0]?.waiting === true);
      await claimer.query(`UPDATE hostrun.runs SET status = 'claimed', attempt = attempt + 1, worker_id = 'w', claimed_at = now() WHERE id = $1`, [id]);
      await claimer.query('COMMIT');
      // The cancel then finds the run claimed: a cancel request, not a canceled queued run.
      expect((await cancel).rows[0]!.status).toBe('claimed');
    } finally {
      await Promise.all([claimer.end(), canceler.end()]);
    }
  });
});

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached in 5 s');
}
