import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HostrunClient, HostrunError } from '../../src/client/index.ts';
import { tokenCreate } from '../../src/db/tokens.ts';
import { createApp } from '../../src/server/app.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { parseCsv } from './csv.ts';
import { DAY_MS, HISTORY, insertHistory, isoDay } from './history.ts';

// Report figures through the HTTP API (the app in process, reached by the real client),
// checked against a history with known durations, outcomes and queue waits.

let db: TestDatabase;
let client: HostrunClient;
let ids: number[];

beforeAll(async () => {
  db = await createTestDatabase();
  const app = createApp({ pool: db.pool });
  const { token } = await tokenCreate(db.pool, { name: 'reports test', isSuperadmin: true });
  client = new HostrunClient({ url: 'http://hostrun.test', token, fetch: (req) => app.fetch(req) });
  ids = await insertHistory(db.pool);
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

describe('reports', () => {
  it('one job: counts, success rate, avg/p50/p95 durations, last failures with their error line, trend per day', async () => {
    const r = await client.reports.job('etl');
    // 7 runs; 4 succeeded; failed + timed_out = 2; 1 canceled: success rate 4 / 6.
    expect(r.summary).toMatchObject({ runs: 7, succeeded: 4, failed: 2, canceled: 1, in_flight: 0 });
    expect(r.summary.success_rate).toBeCloseTo(4 / 6, 10);
    // Durations 1,2,3,4,5,10 s (the canceled run has none): avg 25/6 s; percentile_cont:
    // p50 = between 3 and 4 s = 3.5 s; p95 at position 4.75 = 5 + 0.75 * 5 = 8.75 s.
    expect(r.summary.avg_ms).toBeCloseTo(25000 / 6, 6);
    expect(r.summary.p50_ms).toBeCloseTo(3500, 6);
    expect(r.summary.p95_ms).toBeCloseTo(8750, 6);

    expect(r.last_failures.map((f) => f.id)).toEqual([ids[4], ids[2]]);
    expect(r.last_failures[1]).toMatchObject({ status: 'failed', exit_code: 2, error: 'step 1 (etl) failed with exit code 2', error_line: 'boom: disk full' });
    expect(r.last_failures[0]).toMatchObject({ status: 'timed_out', error: 'timed out after 10 s', error_line: null });

    expect(r.trend).toEqual([
      { day: isoDay(0), runs: 3, succeeded: 2, failed: 1, avg_ms: 2000, p95_ms: expect.closeTo(2900, 6) },
      { day: isoDay(1), runs: 2, succeeded: 1, failed: 1, avg_ms: 7000, p95_ms: expect.closeTo(9700, 6) },
      { day: isoDay(2), runs: 2, succeeded: 1, failed: 0, avg_ms: 5000, p95_ms: 5000 },
    ]);
  });

  it('cuts days in the time zone asked for', async () => {
    // 10:00 UTC is 00:00 next day in Pacific/Kiritimati (UTC+14).
    const r = await client.reports.job('etl', { timezone: 'Pacific/Kiritimati' });
    expect(r.trend.map((t) => t.day)).toEqual([isoDay(1), isoDay(2), isoDay(3)]);
    await expect(client.reports.job('etl', { timezone: 'Mars/Olympus' })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('one line per job, deleted-or-not, window respected', async () => {
    const jobs = await client.reports.jobs();
    expect(jobs.map((j) => [j.job_name, j.runs, j.succeeded, j.failed, j.last_status])).toEqual([
      ['etl', 7, 4, 2, 'canceled'],
      ['old', 0, 0, 0, null], // its one run is 40 days old
      ['sync', 2, 0, 2, 'failed'],
    ]);
    const all = await client.reports.jobs({ since: '60d' });
    expect(all.find((j) => j.job_name === 'old')?.runs).toBe(1);
  });

  it('the whole project: busiest, most failing, failure causes, failing targets, queue wait', async () => {
    const r = await client.reports.summary();
    expect(r.totals).toMatchObject({ runs: 9, succeeded: 4, failed: 4, canceled: 1 });
    expect(r.busiest_jobs.map((j) => [j.job_name, j.runs])).toEqual([['etl', 7], ['sync', 2]]);
    expect(r.most_failing_jobs.map((j) => [j.job_name, j.failed])).toEqual([['etl', 2], ['sync', 2]]);
    expect(r.failure_causes.map((c) => [c.error, c.runs, c.jobs])).toEqual([
      ['worker lost: lease expired on attempt 1', 2, ['sync']],
      ['timed out after 10 s', 1, ['etl']],
      ['step 1 (etl) failed with exit code 2', 1, ['etl']],
    ]);
    expect(r.failing_targets.map((t) => [t.target, t.runs, t.failed])).toEqual([['local', 7, 2], ['db-host', 2, 2]]);
    expect(r.failing_targets[1]!.failure_rate).toBe(1);
    // Waits 100..900 ms (the run 40 days ago is outside): avg 500, p50 500, p95 at 7.6 = 860.
    expect(r.queue_wait.runs).toBe(9);
    expect(r.queue_wait.avg_ms).toBeCloseTo(500, 6);
    expect(r.queue_wait.p50_ms).toBeCloseTo(500, 6);
    expect(r.queue_wait.p95_ms).toBeCloseTo(860, 6);
    expect(r.queue_wait.max_ms).toBeCloseTo(900, 6);
  });

  it('exports the history as JSON and as CSV, with the same rows', async () => {
    const json = await client.reports.export({});
    expect(json.truncated).toBe(false);
    expect(json.runs.map((r) => r.id)).toEqual(ids.slice(0, 9));
    expect(json.runs[2]).toMatchObject({ job_name: 'etl', status: 'failed', duration_ms: 3000, queue_wait_ms: 300, exit_code: 2 });
    expect(json.runs[6]).toMatchObject({ status: 'canceled', duration_ms: null });

    const { csv, truncated } = await client.reports.exportCsv({});
    expect(truncated).toBe(false);
    const [header, ...rows] = parseCsv(csv);
    expect(header).toEqual(['id', 'job_name', 'job_version', 'status', 'trigger', 'target', 'attempt', 'created_at', 'started_at', 'finished_at', 'duration_ms', 'queue_wait_ms', 'exit_code', 'error']);
    expect(rows).toHaveLength(9);
    const byId = new Map(rows.map((r) => [Number(r[0]), r]));
    for (const run of json.runs) {
      const row = byId.get(run.id)!;
      expect(row[1]).toBe(run.job_name);
      expect(row[3]).toBe(run.status);
      expect(row[7]).toBe(run.created_at);
      expect(row[10]).toBe(run.duration_ms === null ? '' : String(run.duration_ms));
      expect(row[13]).toBe(run.error ?? '');
    }

    const since = new Date(Date.now() - 60 * DAY_MS).toISOString().slice(0, 10);
    expect((await client.reports.export({ since })).runs).toHaveLength(HISTORY.length);
    const limited = await client.reports.export({ since, limit: 3, job: 'etl' });
    expect(limited).toMatchObject({ truncated: true });
    expect(limited.runs.map((r) => r.id)).toEqual(ids.slice(0, 3));
  });

  it('status: queue counts, database, workers', async () => {
    const s = await client.reports.status();
    expect(s).toMatchObject({ queued: 0, claimed: 0, running: 0, workers: [] });
    expect(s.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(s.database.name).toMatch(/^hostrun_t_/);
  });

  it('an unknown job is not found; a bad since is a usage error', async () => {
    const err = await client.reports.job('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostrunError);
    expect(err).toMatchObject({ code: 'not_found' });
    await expect(client.reports.jobs({ since: 'yesterday' })).rejects.toMatchObject({ code: 'invalid_request' });
  });
});
