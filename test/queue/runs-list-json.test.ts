import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { applyJob, enqueueRuns } from '../support/fixtures.ts';
import { runGet, runsListJson } from '../../src/db/runs.ts';

// The run list is serialized by Postgres (runsListJson) while one run is serialized by
// JSON.stringify of the driver's row (runGet): a client must get the same text from both.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('runsListJson', () => {
  it('writes each run exactly as JSON.stringify writes the same row', async () => {
    keepDatabaseOnFailure();
    const job = await applyJob(db.pool, `name: shapes\ninputs:\n  who: { default: x }\nsteps:\n  - uses: noop\n`);
    const ids = await enqueueRuns(db.pool, job, 3, { who: 'Zoë "quoted" \\ back\nslash' });
    // Every timestamp column set, with microseconds the API must cut to milliseconds; odd text.
    await db.pool.query(
      `UPDATE hostrun.runs SET
         claimed_at = '2026-01-02 03:04:05.999999+00', started_at = '1999-12-31 23:59:59.0005+02',
         finished_at = now(), fire_at = '2026-03-29 01:30:00+01', cancel_requested_at = '2026-06-01 00:00:00+00',
         exit_code = 3, error = E'tab\\there, "quote", emoji \U0001F600', worker_id = 'w:1',
         outputs = '{"step": {"out": "1.50", "n": 1.0, "deep": [null, true, {"k": "ü"}]}}', labels = '{a,b}'
       WHERE id = $1`,
      [ids[0]],
    );
    const page = await runsListJson(db.pool, { projectId: job.projectId, limit: 2 });
    const listed = JSON.parse(page.json) as { id: number }[];
    expect(listed.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect(page.nextBeforeId).toBe(ids[1]);
    const rest = await runsListJson(db.pool, { projectId: job.projectId, limit: 2, beforeId: page.nextBeforeId! });
    expect(rest.nextBeforeId).toBeNull();
    for (const run of [...listed, ...JSON.parse(rest.json)]) {
      const row = await runGet(db.pool, job.projectId, run.id);
      expect(run).toEqual(JSON.parse(JSON.stringify(row)));
    }
    // Same keys in the same order, so the text differs at most in whitespace inside JSON values.
    expect(Object.keys(JSON.parse(rest.json)[0])).toEqual(Object.keys(JSON.parse(JSON.stringify(await runGet(db.pool, job.projectId, ids[0]!)))));
  });
});
