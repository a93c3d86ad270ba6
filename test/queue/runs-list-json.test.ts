import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { applyJob, enqueueRuns } from '../support/fixtures.ts';
import { runGet, runsListJson } from '../../src/db/runs.ts';

// The run list is written as text from Postgres's column text (runsListJson) while one run is
// serialized by JSON.stringify of the driver's row (runGet): a client must get the same runs
// from both. And the list's text must stay byte for byte what it was when Postgres built it
// with json_build_object (REFERENCE_SQL below, the query runsListJson used before), so no
// client sees the answer change.

const jsonTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const REFERENCE_SQL = `
SELECT json_build_object(
  'id', id, 'project_id', project_id, 'job_id', job_id, 'job_name', job_name, 'job_version', job_version,
  'parent_run_id', parent_run_id, 'trigger', trigger, 'schedule_id', schedule_id, 'fire_at', ${jsonTime('fire_at')},
  'inputs', inputs, 'target', target, 'labels', labels, 'status', status, 'priority', priority, 'attempt', attempt,
  'max_attempts', max_attempts, 'run_after', ${jsonTime('run_after')}, 'worker_id', worker_id,
  'cancel_requested_at', ${jsonTime('cancel_requested_at')}, 'created_by', created_by, 'created_at', ${jsonTime('created_at')},
  'claimed_at', ${jsonTime('claimed_at')}, 'started_at', ${jsonTime('started_at')}, 'finished_at', ${jsonTime('finished_at')},
  'exit_code', exit_code, 'error', error, 'outputs', outputs)::text AS run
  FROM hostrun.runs WHERE project_id = $1 ORDER BY id DESC`;

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

  it('writes each run byte for byte as json_build_object wrote it', async () => {
    keepDatabaseOnFailure();
    const job = await applyJob(db.pool, `name: edges\ninputs:\n  who: { default: x }\nsteps:\n  - uses: noop\n`);
    const ids = await enqueueRuns(db.pool, job, 6, { who: 'ctrl \u0001\u001f\u007f sep \u2028 ü 😀 "q" \\' });
    // Timestamps at the edges of their text: no fraction, one digit, microseconds that must be
    // cut (not rounded), before 1970, BC, a five-digit year, infinity; strings with every kind
    // of character Postgres and JSON escape (or do not); labels that need quoting; nulls.
    const edits: [string, unknown[]][] = [
      [`claimed_at = '2026-01-02 03:04:05+00', started_at = '2026-01-02 03:04:05.5+00', finished_at = '2026-01-02 03:04:05.999999+00',
        error = E'\\b\\f\\n\\r\\t \\x01 \\x1f \\x7f / \\\\ "', labels = ARRAY['a,b', 'c"d', 'e\\f', '', 'NULL', 'x y']`, []],
      [`fire_at = '1969-12-31 23:59:59.9995+00', cancel_requested_at = '0044-03-15 12:00:00.25+00 BC', exit_code = -1,
        outputs = '{"z": 1, "a": [1.50, 1e3, "\\u00e9"], "n": null, "s": "tab\\t"}', labels = ARRAY[NULL, 'n']::text[]`, []],
      [`run_after = '10000-01-01 00:00:00.000001+00', finished_at = 'infinity', worker_id = 'w "1"', target = E'tab\\there', labels = '{}'`, []],
      [`started_at = '-infinity', parent_run_id = $2, priority = -1000, max_attempts = 7, attempt = 3, outputs = '{}'`, [ids[0]]],
    ];
    for (const [i, [set, extra]] of edits.entries()) {
      await db.pool.query(`UPDATE hostrun.runs SET ${set} WHERE id = $1`, [ids[i], ...extra]);
    }
    const { rows } = await db.pool.query<{ run: string }>(REFERENCE_SQL, [job.projectId]);
    const page = await runsListJson(db.pool, { projectId: job.projectId, limit: 100 });
    expect(page.json).toBe(`[${rows.map((r) => r.run).join(',')}]`);
    expect(JSON.parse(page.json)).toHaveLength(rows.length);
  });
});
