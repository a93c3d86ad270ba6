import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fireTimesBetween } from '../../src/core/cron.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { scheduleGet, scheduleNextFireTimes, scheduleSetEnabled } from '../../src/db/schedules.ts';
import { startScheduler, type Scheduler } from '../../src/scheduler/scheduler.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { defaultProjectId, fireTimesOf, jobInsert, jobSpec, ManualClock, scheduleSpec } from './job-rows.ts';

const at = (iso: string) => new Date(iso);
const MINUTE = 60_000;

describe('scheduler', () => {
  let db: TestDatabase;
  let projectId: string;
  const extraPools: Pool[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    projectId = await defaultProjectId(db.pool);
  });

  afterEach(async () => {
    // Each test's schedules must not fire under the next test's clock.
    await db.pool.query(`DELETE FROM hostrun.jobs`);
    await db.pool.query(`DELETE FROM hostrun.runs`);
  });

  afterAll(async () => {
    await Promise.all(extraPools.map((p) => p.end()));
    await db.drop();
  });

  function pool(): Pool {
    const p = createPool(db.url, { max: 2 });
    extraPools.push(p);
    return p;
  }

  async function scheduler(clock: ManualClock, batchSize?: number): Promise<Scheduler> {
    return startScheduler({ pool: pool(), clock, autoStart: false, ...(batchSize ? { batchSize } : {}) });
  }

  it('three schedulers at once: every fire time of 500 minutes exactly once', async () => {
    keepDatabaseOnFailure();
    const start = at('2026-05-04T08:00:30Z');
    const clock = new ManualClock(start);
    const { jobId, scheduleIds } = await jobInsert(
      db.pool,
      jobSpec('fleet', [
        scheduleSpec({ cron: '* * * * *', misfire: 'once' }),
        scheduleSpec({ cron: '*/10 * * * * *', misfire: 'all' }),
        scheduleSpec({ every: '15m', misfire: 'once' }),
      ]),
      start,
    );
    // A batch of one schedule per pass makes the three split every step's work between them and
    // race for the same rows: each must skip what another holds and still leave nothing due.
    const schedulers = await Promise.all([scheduler(clock, 1), scheduler(clock, 1), scheduler(clock, 1)]);
    const perScheduler = [0, 0, 0];
    let reported = 0;
    for (let minute = 1; minute <= 500; minute++) {
      const now = clock.advance(MINUTE);
      const created = await Promise.all(schedulers.map((s) => s.tick()));
      created.forEach((n, i) => (perScheduler[i]! += n));
      reported += created.reduce((a, b) => a + b, 0);
      // Nothing is left due after a step: no fire time waits for the next pass.
      const left = await db.pool.query(`SELECT count(*) AS n FROM hostrun.schedules WHERE job_id = $1 AND next_fire_at <= $2`, [jobId, now]);
      expect(left.rows[0].n, `minute ${minute}`).toBe(0);
    }
    const end = clock.now();

    const dupes = await db.pool.query(
      `SELECT schedule_id, fire_at, count(*) AS n FROM hostrun.runs GROUP BY 1, 2 HAVING count(*) > 1`,
    );
    expect(dupes.rows).toEqual([]);
    const rows = await db.pool.query<{ id: string; cron: string | null; every_seconds: number | null; timezone: string; anchor_at: Date }>(
      `SELECT id, cron, every_seconds, timezone, anchor_at FROM hostrun.schedules WHERE job_id = $1 ORDER BY spec_index`,
      [jobId],
    );
    const expected = rows.rows.map((r) =>
      fireTimesBetween({ cron: r.cron, everySeconds: r.every_seconds, timezone: r.timezone, anchorAt: r.anchor_at }, start, end, 10_000).map((d) =>
        d.toISOString(),
      ),
    );
    expect(expected.map((e) => e.length)).toEqual([500, 3000, 33]);
    for (const [i, id] of scheduleIds.entries()) {
      expect(await fireTimesOf(db.pool, id), `schedule ${i}`).toEqual(expected[i]);
    }
    // What the ticks reported is what exists: no run was counted by two schedulers.
    expect(reported).toBe(3533);
    expect(perScheduler.filter((n) => n > 0).length, `runs created per scheduler: ${perScheduler}`).toBeGreaterThan(1);
    const runs = await db.pool.query(`SELECT count(*) AS n, count(DISTINCT trigger) AS triggers, min(trigger) AS trigger FROM hostrun.runs`);
    expect(runs.rows[0]).toEqual({ n: 3533, triggers: 1, trigger: 'schedule' });
  });

  it('daylight saving time end to end: 30 2 * * * Europe/Berlin fires once on each change day', async () => {
    keepDatabaseOnFailure();
    const clock = new ManualClock(at('2026-03-28T22:00:00Z'));
    const spring = await jobInsert(
      db.pool,
      jobSpec('nightly-spring', [scheduleSpec({ cron: '30 2 * * *', timezone: 'Europe/Berlin' })]),
      clock.now(),
    );
    const s = await scheduler(clock);
    // 2026-03-29 in Berlin is 2026-03-28T23:00Z .. 2026-03-29T22:00Z (23 hours); step past it.
    const firedAt: string[] = [];
    while (clock.now() < at('2026-03-29T23:00:00Z')) {
      const now = clock.advance(MINUTE);
      if ((await s.tick()) > 0) firedAt.push(now.toISOString());
    }
    expect(await fireTimesOf(db.pool, spring.scheduleIds[0]!)).toEqual(['2026-03-29T01:00:00.000Z']); // 03:00 CEST
    expect(firedAt).toEqual(['2026-03-29T01:00:00.000Z']);

    clock.set(at('2026-10-24T22:00:00Z'));
    const fall = await jobInsert(
      db.pool,
      jobSpec('nightly-fall', [scheduleSpec({ cron: '30 2 * * *', timezone: 'Europe/Berlin' })]),
      clock.now(),
    );
    // 2026-10-25 in Berlin is 2026-10-24T22:00Z .. 2026-10-25T23:00Z (25 hours).
    while (clock.now() < at('2026-10-25T23:30:00Z')) {
      clock.advance(MINUTE);
      await s.tick();
    }
    expect(await fireTimesOf(db.pool, fall.scheduleIds[0]!)).toEqual(['2026-10-25T00:30:00.000Z']); // the first 02:30 (CEST)
  });

  it('misfire policies after ten missed periods: skip 0, once 1, all 10', async () => {
    keepDatabaseOnFailure();
    const clock = new ManualClock(at('2026-06-01T10:00:00Z'));
    const { scheduleIds } = await jobInsert(
      db.pool,
      jobSpec('five-minutely', [
        scheduleSpec({ cron: '*/5 * * * *', misfire: 'skip' }),
        scheduleSpec({ cron: '*/5 * * * *', misfire: 'once' }),
        scheduleSpec({ cron: '*/5 * * * *', misfire: 'all' }),
      ]),
      clock.now(),
    );
    const [skip, once, all] = scheduleIds as [string, string, string];
    const s = await scheduler(clock);

    clock.set(at('2026-06-01T10:05:00Z'));
    expect(await s.tick()).toBe(3);

    // Down from 10:05 to 10:56:30: 10:10 .. 10:55 missed, the last of them 90 s ago.
    clock.set(at('2026-06-01T10:56:30Z'));
    expect(await s.tick()).toBe(11);
    expect(await fireTimesOf(db.pool, skip)).toEqual(['2026-06-01T10:05:00.000Z']);
    expect(await fireTimesOf(db.pool, once)).toEqual(['2026-06-01T10:05:00.000Z', '2026-06-01T10:55:00.000Z']);
    const allTimes = await fireTimesOf(db.pool, all);
    expect(allTimes).toHaveLength(11);
    expect(allTimes.slice(1)).toEqual(
      Array.from({ length: 10 }, (_, k) => new Date(at('2026-06-01T10:10:00Z').getTime() + k * 5 * MINUTE).toISOString()),
    );
    // All three carry on from the next fire time after the outage.
    for (const id of scheduleIds) expect((await scheduleGet(db.pool, projectId, id))!.next_fire_at).toEqual(at('2026-06-01T11:00:00Z'));
    expect((await scheduleGet(db.pool, projectId, skip))!.last_fire_at).toEqual(at('2026-06-01T10:05:00Z'));
    expect((await scheduleGet(db.pool, projectId, once))!.last_fire_at).toEqual(at('2026-06-01T10:55:00Z'));

    clock.set(at('2026-06-01T11:00:00Z'));
    expect(await s.tick()).toBe(3);
  });

  it('misfire all backfills at most 1000 fire times per pass and carries on in the next', async () => {
    keepDatabaseOnFailure();
    const clock = new ManualClock(at('2026-06-01T10:00:00Z'));
    const { scheduleIds } = await jobInsert(db.pool, jobSpec('backfill', [scheduleSpec({ cron: '* * * * * *', misfire: 'all' })]), clock.now());
    const s = await scheduler(clock);
    clock.set(at('2026-06-01T10:41:40Z')); // 2500 seconds later
    expect(await s.tick()).toBe(1000);
    expect((await scheduleGet(db.pool, projectId, scheduleIds[0]!))!.next_fire_at).toEqual(at('2026-06-01T10:16:41Z'));
    expect(await s.tick()).toBe(1000);
    expect(await s.tick()).toBe(500);
    expect(await s.tick()).toBe(0);
    const times = await fireTimesOf(db.pool, scheduleIds[0]!);
    expect(times).toHaveLength(2500);
    expect(times[0]).toBe('2026-06-01T10:00:01.000Z');
    expect(times[2499]).toBe('2026-06-01T10:41:40.000Z');
  });

  it('a pass stops at its run budget; the schedules left over stay due and fire in the next pass', async () => {
    keepDatabaseOnFailure();
    const clock = new ManualClock(at('2026-06-01T10:00:00Z'));
    // Three schedules of one job, each 4 fire times behind: 12 runs, 5 per pass at most.
    const { scheduleIds } = await jobInsert(
      db.pool,
      jobSpec('budgeted', [1, 2, 3].map(() => scheduleSpec({ cron: '* * * * *', misfire: 'all' }))),
      clock.now(),
    );
    const s = await startScheduler({ pool: pool(), clock, autoStart: false, maxRunsPerPass: 5 });
    clock.set(at('2026-06-01T10:04:30Z'));
    // A schedule's fire times are never split between passes: 4, then 4 (8 would pass 5), then 4.
    expect(await s.tick()).toBe(4);
    expect(await s.tick()).toBe(4);
    expect(await s.tick()).toBe(4);
    expect(await s.tick()).toBe(0);
    for (const id of scheduleIds) {
      expect(await fireTimesOf(db.pool, id)).toEqual(['10:01', '10:02', '10:03', '10:04'].map((t) => `2026-06-01T${t}:00.000Z`));
      expect((await scheduleGet(db.pool, projectId, id))!.next_fire_at).toEqual(at('2026-06-01T10:05:00Z'));
    }
  });

  it('an interval of 15m fires on its anchored grid, however late the passes run', async () => {
    keepDatabaseOnFailure();
    const clock = new ManualClock(at('2026-06-01T10:03:27.450Z'));
    const { scheduleIds } = await jobInsert(db.pool, jobSpec('every-15m', [scheduleSpec({ every: '15m' })]), clock.now());
    const id = scheduleIds[0]!;
    const anchor = at('2026-06-01T10:03:27Z').getTime();
    const row = (await scheduleGet(db.pool, projectId, id))!;
    expect(row.anchor_at).toEqual(new Date(anchor));
    expect(row.description).toBe('Every 15 minutes');
    expect(scheduleNextFireTimes(row, 3)).toEqual([1, 2, 3].map((k) => new Date(anchor + k * 15 * MINUTE)));

    const s = await scheduler(clock);
    for (let k = 1; k <= 100; k++) {
      // Each pass runs up to 49 s late; a drifting schedule would carry that into the next.
      clock.set(new Date(anchor + k * 15 * MINUTE + ((k * 7919) % 50) * 1000));
      expect(await s.tick(), `period ${k}`).toBe(1);
    }
    expect(await fireTimesOf(db.pool, id)).toEqual(
      Array.from({ length: 100 }, (_, i) => new Date(anchor + (i + 1) * 15 * MINUTE).toISOString()),
    );
  });

  it('schedules due in one pass share a plan only when their timing is the same', async () => {
    keepDatabaseOnFailure();
    // Two 15m intervals made 5 minutes apart fire on their own grids; two cron schedules with
    // the same expression, made at different times, fire at the same minute.
    const first = new ManualClock(at('2026-07-01T10:00:00Z'));
    const a = await jobInsert(db.pool, jobSpec('grid-a', [scheduleSpec({ every: '15m' }), scheduleSpec({ cron: '*/15 * * * *' })]), first.now());
    const b = await jobInsert(db.pool, jobSpec('grid-b', [scheduleSpec({ every: '15m' }), scheduleSpec({ cron: '*/15 * * * *' })]), at('2026-07-01T10:05:00Z'));
    const clock = new ManualClock(at('2026-07-01T10:20:30Z'));
    const s = await scheduler(clock);
    expect(await s.tick()).toBe(4);
    expect(await fireTimesOf(db.pool, a.scheduleIds[0]!)).toEqual(['2026-07-01T10:15:00.000Z']);
    expect(await fireTimesOf(db.pool, b.scheduleIds[0]!)).toEqual(['2026-07-01T10:20:00.000Z']);
    expect(await fireTimesOf(db.pool, a.scheduleIds[1]!)).toEqual(['2026-07-01T10:15:00.000Z']);
    expect(await fireTimesOf(db.pool, b.scheduleIds[1]!)).toEqual(['2026-07-01T10:15:00.000Z']);
  });

  it('pausing stops firing; resuming does not backfill (even with misfire all)', async () => {
    keepDatabaseOnFailure();
    const clock = new ManualClock(at('2026-06-01T10:00:00Z'));
    const { scheduleIds } = await jobInsert(db.pool, jobSpec('pausable', [scheduleSpec({ cron: '* * * * *', misfire: 'all' })]), clock.now());
    const id = scheduleIds[0]!;
    const s = await scheduler(clock);

    clock.set(at('2026-06-01T10:01:00Z'));
    expect(await s.tick()).toBe(1);
    const paused = await scheduleSetEnabled(db.pool, id, false, at('2026-06-01T10:01:10Z'));
    expect(paused).toMatchObject({ enabled: false, next_fire_at: null });
    expect(scheduleNextFireTimes(paused!, 3)).toEqual([]);
    for (let m = 2; m <= 10; m++) {
      clock.set(new Date(at('2026-06-01T10:00:00Z').getTime() + m * MINUTE));
      expect(await s.tick()).toBe(0);
    }

    const resumed = await scheduleSetEnabled(db.pool, id, true, at('2026-06-01T10:10:30Z'));
    expect(resumed).toMatchObject({ enabled: true, next_fire_at: at('2026-06-01T10:11:00Z') });
    clock.set(at('2026-06-01T10:10:30Z'));
    expect(await s.tick()).toBe(0);
    clock.set(at('2026-06-01T10:11:00Z'));
    expect(await s.tick()).toBe(1);
    expect(await fireTimesOf(db.pool, id)).toEqual(['2026-06-01T10:01:00.000Z', '2026-06-01T10:11:00.000Z']);
  });

  it('a disabled job does not fire', async () => {
    const clock = new ManualClock(at('2026-06-01T10:00:00Z'));
    const { jobId } = await jobInsert(db.pool, jobSpec('off', [scheduleSpec({ cron: '* * * * *' })]), clock.now());
    await db.pool.query(`UPDATE hostrun.jobs SET enabled = false WHERE id = $1`, [jobId]);
    const s = await scheduler(clock);
    clock.set(at('2026-06-01T10:05:00Z'));
    expect(await s.tick()).toBe(0);
  });

  it('bad rows are logged and moved on; they do not stop the others', async () => {
    keepDatabaseOnFailure();
    const clock = new ManualClock(at('2026-06-01T10:00:00Z'));
    const every = [scheduleSpec({ cron: '* * * * *' })];
    const fine = await jobInsert(db.pool, jobSpec('fine', every), clock.now());
    // A required input that neither the schedule nor a default gives.
    const needsInput = await jobInsert(
      db.pool,
      jobSpec('needs-input', every, { inputs: { ip: { type: 'string', required: true } } }),
      clock.now(),
    );
    // A stored spec the scheduler cannot read at all.
    const broken = await jobInsert(db.pool, jobSpec('broken', every), clock.now(), { name: 'broken' });
    // A spec that passes every check in JS but that Postgres refuses (priority is not an integer):
    // the batched insert fails, and each schedule is then tried alone.
    const badPriority = await jobInsert(db.pool, jobSpec('bad-priority', every), clock.now(), {
      ...jobSpec('bad-priority', every),
      priority: 'urgent',
    });

    const errors: { obj: object; msg?: string }[] = [];
    const s = await startScheduler({
      pool: pool(),
      clock,
      autoStart: false,
      logger: { info() {}, error: (obj, msg) => errors.push({ obj, msg }) },
    });
    clock.set(at('2026-06-01T10:01:00Z'));
    expect(await s.tick()).toBe(1);
    expect(await fireTimesOf(db.pool, fine.scheduleIds[0]!)).toEqual(['2026-06-01T10:01:00.000Z']);
    expect(errors.map((e) => e.msg).sort()).toEqual([
      'batched insert of scheduled runs failed; retrying one schedule at a time',
      'scheduled run not created: the job cannot run with these inputs',
      'scheduled run not created: the job cannot run with these inputs',
      'scheduled runs not created',
    ]);
    for (const bad of [needsInput, broken, badPriority]) {
      const row = (await scheduleGet(db.pool, projectId, bad.scheduleIds[0]!))!;
      expect(row.next_fire_at).toEqual(at('2026-06-01T10:02:00Z'));
      expect(row.last_fire_at).toBeNull();
    }
    clock.set(at('2026-06-01T10:02:00Z'));
    expect(await s.tick()).toBe(1);
  });

  it('the loop wakes on NOTIFY and on the earliest fire time, not only on its poll', async () => {
    keepDatabaseOnFailure();
    const logs: string[] = [];
    // A poll of a minute: anything sooner than that is the NOTIFY and the sleep-until-due at work.
    const s = await startScheduler({
      pool: pool(),
      pollIntervalMs: 60_000,
      logger: { info: (_o, msg) => logs.push(msg ?? ''), error: (_o, msg) => logs.push(`error: ${msg}`) },
    });
    try {
      const started = Date.now();
      const { scheduleIds } = await jobInsert(db.pool, jobSpec('every-second', [scheduleSpec({ cron: '* * * * * *' })]), new Date());
      const fired = await waitUntil(async () => (await fireTimesOf(db.pool, scheduleIds[0]!)).length >= 2, 10_000);
      expect(fired).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      const stopping = Date.now();
      await s.stop();
      // stop() cuts the minute-long sleep short.
      expect(Date.now() - stopping).toBeLessThan(5_000);
    }
    expect(logs.filter((l) => l.startsWith('error'))).toEqual([]);
  });

  it('runs created ahead of their fire time wait in the queue from it and become visible at it, not before', async () => {
    keepDatabaseOnFailure();
    const s = await startScheduler({ pool: pool(), pollIntervalMs: 60_000, leadMs: 1500 });
    try {
      const { scheduleIds } = await jobInsert(db.pool, jobSpec('ahead', [scheduleSpec({ cron: '* * * * * *' })]), new Date());
      // Read in one statement: a run this snapshot sees committed before clock_timestamp(), so a
      // fire_at after clock_timestamp() would be a run visible before its fire time.
      let early = 0;
      const fired = await waitUntil(async () => {
        const { rows } = await db.pool.query<{ n: number; early: number; ahead: number; off: number }>(
          `SELECT count(*)::int AS n,
                  count(*) FILTER (WHERE fire_at > clock_timestamp())::int AS early,
                  count(*) FILTER (WHERE created_at < fire_at)::int AS ahead,
                  count(*) FILTER (WHERE created_at < fire_at AND run_after <> fire_at)::int AS off
             FROM hostrun.runs WHERE schedule_id = $1`,
          [scheduleIds[0]],
        );
        const r = rows[0]!;
        early += r.early;
        expect(r.off).toBe(0);
        // Created ahead: the inserting transaction began before the fire time it committed at.
        return r.n >= 3 && r.ahead >= 1;
      }, 10_000);
      expect(fired).toBe(true);
      expect(early).toBe(0);
    } finally {
      await s.stop();
    }
  });

  it('two looping schedulers creating ahead: every fire time of every schedule exactly once', async () => {
    keepDatabaseOnFailure();
    const { scheduleIds } = await jobInsert(
      db.pool,
      jobSpec('ahead-pair', Array.from({ length: 40 }, () => scheduleSpec({ cron: '* * * * * *' }))),
      new Date(),
    );
    // Batches of 7 make the two take turns within one fire time's schedules.
    const both = await Promise.all([0, 1].map(() => startScheduler({ pool: pool(), pollIntervalMs: 60_000, leadMs: 1500, batchSize: 7 })));
    try {
      const fired = await waitUntil(async () => {
        const { rows } = await db.pool.query<{ n: number }>(`SELECT count(DISTINCT fire_at)::int AS n FROM hostrun.runs WHERE schedule_id = ANY ($1)`, [scheduleIds]);
        return rows[0]!.n >= 3;
      }, 15_000);
      expect(fired).toBe(true);
    } finally {
      await Promise.all(both.map((s) => s.stop()));
    }
    // No schedule has two runs of one fire time, and every fire time has a run of every
    // schedule (but the last, which the stop may have cut into), one second after another.
    const { rows } = await db.pool.query<{ fire_at: Date; runs: number; schedules: number }>(
      `SELECT fire_at, count(*)::int AS runs, count(DISTINCT schedule_id)::int AS schedules
         FROM hostrun.runs WHERE schedule_id = ANY ($1) GROUP BY fire_at ORDER BY fire_at`,
      [scheduleIds],
    );
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const [i, r] of rows.entries()) {
      const at = r.fire_at.toISOString();
      expect({ at, runs: r.runs }).toEqual({ at, runs: r.schedules });
      if (i < rows.length - 1) expect({ at, schedules: r.schedules }).toEqual({ at, schedules: 40 });
    }
    const seconds = rows.map((r) => r.fire_at.getTime() / 1000);
    expect(seconds).toEqual(seconds.map((_, i) => seconds[0]! + i));
  });
});

/** Re-checks `check` every 50 ms until it holds or `timeoutMs` passes. */
async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
