import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { runEnqueue } from '../../src/queue/enqueue.ts';
import { startRunFeed } from '../../src/server/run-feed.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { applyJob, type AppliedJob } from '../support/fixtures.ts';

// Single-run enqueues from concurrent callers share one INSERT (one commit, one NOTIFY), and
// status changes reach the API's live feed without a NOTIFY (migrations/0007_quiet_transitions.sql).

let db: TestDatabase;
let applied: AppliedJob;

beforeAll(async () => {
  db = await createTestDatabase();
  applied = await applyJob(db.pool, 'name: shared\nsteps:\n  - run: echo hi\n');
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

const request = (k: number, projectId = applied.projectId) => ({ projectId, job: applied.job, inputs: { k }, trigger: 'api' as const });

it('gives each of many concurrent callers its own run, written by fewer statements than callers', async () => {
  const ids = await Promise.all(Array.from({ length: 50 }, (_, k) => runEnqueue(db.pool, request(k))));
  expect(new Set(ids).size).toBe(50);
  const { rows } = await db.pool.query<{ id: number; k: number; xid: string }>(
    `SELECT id, (inputs->>'k')::int AS k, xmin::text AS xid FROM hostrun.runs WHERE id = ANY($1)`,
    [ids],
  );
  // Every caller got the id of the run that holds its own inputs.
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  ids.forEach((id, k) => expect(byId.get(id!)?.k).toBe(k));
  // Shared statements: the 50 rows were committed by fewer transactions than callers.
  expect(new Set(rows.map((r) => r.xid)).size).toBeLessThan(50);
  const { rows: events } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM hostrun.run_events WHERE run_id = ANY($1) AND from_status IS NULL AND to_status = 'queued'`,
    [ids],
  );
  expect(events[0]!.n).toBe(50);
});

it('fails only the caller whose run cannot be written when it shared a statement with others', async () => {
  const results = await Promise.allSettled([
    ...Array.from({ length: 10 }, (_, k) => runEnqueue(db.pool, request(100 + k))),
    runEnqueue(db.pool, request(999, randomUUID())),
  ]);
  expect(results.slice(0, 10).every((r) => r.status === 'fulfilled' && typeof r.value === 'number')).toBe(true);
  expect(results[10]!.status).toBe('rejected');
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM hostrun.runs WHERE (inputs->>'k')::int >= 100`);
  expect(rows[0]!.n).toBe(10);
});

it('wakes the live feed on a status change, though status changes send no NOTIFY', async () => {
  const feed = await startRunFeed({ databaseUrl: db.url, logger: pino({ level: 'silent' }) });
  try {
    const watch = feed.watchEvents();
    // The feed's first read after a watcher arrives wakes it once; take that wake first.
    await watch.wait(60_000);
    const id = await runEnqueue(db.pool, request(2000));
    // No safety timeout here: only the feed's wake can end this wait before the test's timeout.
    await watch.wait(60_000);
    expect(id).toBeGreaterThan(0);
    watch.close();
  } finally {
    await feed.close();
  }
});
