// Keeps `npm run bench` from rotting: scenario A (burn-down) for Hostrun alone, 500 no-op
// runs, one worker process x 24, through the same harness code. Asserts that every run
// succeeded, never how fast.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { SYSTEMS, type Producer } from '../../bench/systems.ts';
import { burnDown } from '../../bench/queue-scenarios.ts';

let db: TestDatabase;
let producer: Producer;
let home: string;

beforeAll(async () => {
  db = await createTestDatabase();
  home = mkdtempSync(path.join(tmpdir(), 'hostrun-bench-smoke-'));
  producer = await SYSTEMS.hostrun.open(db.url, '');
});

afterAll(async () => {
  await producer?.close();
  await db?.drop();
  rmSync(home, { recursive: true, force: true });
});

test('scenario A runs 500 Hostrun runs to success in a separate worker process', async () => {
  keepDatabaseOnFailure();
  const r = await burnDown('hostrun', producer, { databaseUrl: db.url, redisUrl: '', home }, { runs: 500, processes: 1, concurrency: 24, timeboxMs: 50_000 });
  expect(r.partial).toBe(false);
  expect(r.runs).toBe(500);
  const { rows } = await db.pool.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM hostrun.runs GROUP BY status');
  expect(rows.map((x) => [x.status, Number(x.n)])).toEqual([['succeeded', 500]]);
}, 90_000);

test("the report's quantiles take a full run's samples (C at 1,000/s for 3 minutes is 180,000)", async () => {
  const { quantile } = await import('../../bench/report.ts');
  const samples = Array.from({ length: 300_000 }, (_, i) => 300_000 - i);
  expect(quantile(samples, 1)).toBe(300_000);
  expect(quantile(samples, 0.5)).toBe(150_001);
});
