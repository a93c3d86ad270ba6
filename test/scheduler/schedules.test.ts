import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostrunError } from '../../src/core/errors.ts';
import type { ScheduleSpec } from '../../src/core/types.ts';
import { withTransaction } from '../../src/db/pool.ts';
import {
  scheduleGet,
  scheduleNextFireTimes,
  scheduleSetEnabled,
  schedulesList,
  schedulesResumeForJob,
  schedulesSyncForJob,
} from '../../src/db/schedules.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { defaultProjectId, jobInsert, jobSpec, scheduleSpec } from './job-rows.ts';

const at = (iso: string) => new Date(iso);

describe('schedules (definitions)', () => {
  let db: TestDatabase;
  let projectId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    projectId = await defaultProjectId(db.pool);
  });

  afterAll(async () => {
    await db.drop();
  });

  const sync = (jobId: string, schedules: ScheduleSpec[], now: Date) =>
    withTransaction(db.pool, (tx) => schedulesSyncForJob(tx, { projectId, jobId, schedules, now }));

  it('creates one row per spec schedule with its first fire time and a description', async () => {
    keepDatabaseOnFailure();
    const now = at('2026-06-01T10:03:27.450Z');
    const { jobId } = await jobInsert(
      db.pool,
      jobSpec('backup', [
        scheduleSpec({ cron: '30 2 * * *', timezone: 'Europe/Berlin', inputs: { target: 'nas' }, misfire: 'all' }),
        scheduleSpec({ every: '15m' }),
        scheduleSpec({ cron: '0 * * * *', enabled: false }),
      ]),
      now,
    );
    const rows = await schedulesList(db.pool, { projectId, jobId });
    expect(rows.map((r) => [r.spec_index, r.job_name, r.description, r.enabled, r.next_fire_at?.toISOString() ?? null])).toEqual([
      [0, 'backup', 'At 02:30 every day, Europe/Berlin', true, '2026-06-02T00:30:00.000Z'],
      [1, 'backup', 'Every 15 minutes', true, '2026-06-01T10:18:27.000Z'],
      [2, 'backup', 'Every hour, UTC', false, null],
    ]);
    expect(rows[0]).toMatchObject({ inputs: { target: 'nas' }, misfire_policy: 'all', cron: '30 2 * * *', every_seconds: null });
    expect(rows[1]).toMatchObject({ every_seconds: 900, cron: null, anchor_at: at('2026-06-01T10:03:27Z') });
    expect(scheduleNextFireTimes(rows[0]!, 3).map((d) => d.toISOString())).toEqual([
      '2026-06-02T00:30:00.000Z',
      '2026-06-03T00:30:00.000Z',
      '2026-06-04T00:30:00.000Z',
    ]);
  });

  it('re-applying keeps next_fire_at unless the timing changed; removed schedules go', async () => {
    keepDatabaseOnFailure();
    const t0 = at('2026-06-01T10:00:00Z');
    const first = [
      scheduleSpec({ cron: '0 * * * *' }),
      scheduleSpec({ every: '10m' }),
      scheduleSpec({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }),
      scheduleSpec({ cron: '*/5 * * * *' }),
    ];
    const { jobId, scheduleIds } = await jobInsert(db.pool, jobSpec('reapply', first), t0);
    const before = await schedulesList(db.pool, { projectId, jobId });

    // Later, with other edits: new inputs and policy on 0, same interval on 1, zone changed on 2,
    // cron changed on 3 (and then dropped from the list below).
    const t1 = at('2026-06-01T10:31:00Z');
    await sync(
      jobId,
      [
        scheduleSpec({ cron: '0 * * * *', inputs: { x: 1 }, misfire: 'skip' }),
        scheduleSpec({ every: '10m' }),
        scheduleSpec({ cron: '0 9 * * *', timezone: 'America/New_York' }),
        scheduleSpec({ cron: '*/7 * * * *' }),
      ],
      t1,
    );
    const after = await schedulesList(db.pool, { projectId, jobId });
    expect(after.map((r) => r.id)).toEqual(scheduleIds); // updated in place
    expect(after[0]!.next_fire_at).toEqual(before[0]!.next_fire_at);
    expect(after[0]).toMatchObject({ inputs: { x: 1 }, misfire_policy: 'skip' });
    expect(after[1]!.next_fire_at).toEqual(before[1]!.next_fire_at);
    expect(after[1]!.anchor_at).toEqual(before[1]!.anchor_at);
    expect(after[2]!.next_fire_at).toEqual(at('2026-06-01T13:00:00Z')); // 09:00 EDT
    expect(after[3]!.next_fire_at).toEqual(at('2026-06-01T10:35:00Z'));

    // A new interval length re-anchors at the apply; the last schedule is removed.
    await sync(jobId, [scheduleSpec({ cron: '0 * * * *', inputs: { x: 1 }, misfire: 'skip' }), scheduleSpec({ every: '1h' })], t1);
    const shrunk = await schedulesList(db.pool, { projectId, jobId });
    expect(shrunk).toHaveLength(2);
    expect(shrunk[1]).toMatchObject({ every_seconds: 3600, anchor_at: at('2026-06-01T10:31:00Z'), next_fire_at: at('2026-06-01T11:31:00Z') });
    expect(await scheduleGet(db.pool, projectId, scheduleIds[3]!)).toBeNull();
  });

  it('enabled follows the spec; enabling recomputes from the apply, without backfill', async () => {
    keepDatabaseOnFailure();
    const { jobId } = await jobInsert(db.pool, jobSpec('toggle', [scheduleSpec({ cron: '* * * * *', enabled: false })]), at('2026-06-01T10:00:00Z'));
    await sync(jobId, [scheduleSpec({ cron: '* * * * *', enabled: true })], at('2026-06-01T12:00:30Z'));
    const [row] = await schedulesList(db.pool, { projectId, jobId });
    expect(row).toMatchObject({ enabled: true, next_fire_at: at('2026-06-01T12:01:00Z') });
  });

  it('refuses invalid schedules with invalid_spec and the path, writing nothing', async () => {
    keepDatabaseOnFailure();
    const { jobId } = await jobInsert(db.pool, jobSpec('invalid', [scheduleSpec({ cron: '0 * * * *' })]), at('2026-06-01T10:00:00Z'));
    const cases: [ScheduleSpec, RegExp, string][] = [
      [scheduleSpec({ cron: '0 25 * * *' }), /hour/, 'schedules[1].cron'],
      [scheduleSpec({ cron: '0 * * * *', timezone: 'Europe/Atlantis' }), /unknown time zone/, 'schedules[1].timezone'],
      [scheduleSpec({ every: '0s' }), /shorter than 1 second/, 'schedules[1].every'],
      [scheduleSpec({ cron: '0 * * * *', every: '1h' }), /exactly one of cron and every/, 'schedules[1]'],
      [scheduleSpec({}), /exactly one of cron and every/, 'schedules[1]'],
    ];
    for (const [bad, message, path] of cases) {
      const err = await sync(jobId, [scheduleSpec({ cron: '5 * * * *' }), bad], at('2026-06-01T10:00:00Z')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostrunError);
      expect((err as HostrunError).code).toBe('invalid_spec');
      expect((err as Error).message).toMatch(message);
      expect((err as HostrunError).details[0]?.path).toBe(path);
    }
    const rows = await schedulesList(db.pool, { projectId, jobId });
    expect(rows.map((r) => r.cron)).toEqual(['0 * * * *']);
  });

  it('sync and pause/resume NOTIFY hostrun_schedules, at commit', async () => {
    keepDatabaseOnFailure();
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const heard: string[] = [];
    let heardOne: () => void = () => {};
    listener.on('notification', (n) => {
      heard.push(n.channel);
      heardOne();
    });
    await listener.query('LISTEN hostrun_schedules');
    const next = () => new Promise<void>((resolve) => (heardOne = resolve));
    try {
      let notified = next();
      const { scheduleIds } = await jobInsert(db.pool, jobSpec('noisy', [scheduleSpec({ cron: '* * * * *' })]), new Date());
      await notified;
      notified = next();
      await scheduleSetEnabled(db.pool, scheduleIds[0]!, false, new Date());
      await notified;
      expect(heard).toEqual(['hostrun_schedules', 'hostrun_schedules']);
    } finally {
      await listener.end();
    }
  });

  it('pause clears next_fire_at; resume sets it from now; a second resume changes nothing', async () => {
    keepDatabaseOnFailure();
    const { scheduleIds } = await jobInsert(db.pool, jobSpec('pause-me', [scheduleSpec({ every: '1h' })]), at('2026-06-01T10:00:00Z'));
    const id = scheduleIds[0]!;
    expect(await scheduleSetEnabled(db.pool, id, false, at('2026-06-01T10:30:00Z'))).toMatchObject({ enabled: false, next_fire_at: null });
    // Resumed after three missed hours: the next hour on the original grid, nothing owed.
    const resumed = await scheduleSetEnabled(db.pool, id, true, at('2026-06-01T13:30:00Z'));
    expect(resumed).toMatchObject({ enabled: true, next_fire_at: at('2026-06-01T14:00:00Z') });
    const again = await scheduleSetEnabled(db.pool, id, true, at('2026-06-01T13:45:00Z'));
    expect(again!.next_fire_at).toEqual(at('2026-06-01T14:00:00Z'));
    expect(again!.updated_at).toEqual(resumed!.updated_at);
    expect(await scheduleSetEnabled(db.pool, '00000000-0000-0000-0000-000000000000', true, new Date())).toBeNull();
    expect(await scheduleSetEnabled(db.pool, 'not-a-uuid', true, new Date())).toBeNull();
  });

  it('schedulesResumeForJob moves a re-enabled job past the fire times it missed', async () => {
    keepDatabaseOnFailure();
    const { jobId, scheduleIds } = await jobInsert(db.pool, jobSpec('re-enabled', [scheduleSpec({ cron: '*/5 * * * *' })]), at('2026-06-01T10:00:00Z'));
    await withTransaction(db.pool, (tx) => schedulesResumeForJob(tx, { jobId, now: at('2026-06-02T08:01:00Z') }));
    expect((await scheduleGet(db.pool, projectId, scheduleIds[0]!))!.next_fire_at).toEqual(at('2026-06-02T08:05:00Z'));
  });

  it('lists by project and by job; unknown ids are null, not errors', async () => {
    keepDatabaseOnFailure();
    const a = await jobInsert(db.pool, jobSpec('list-a', [scheduleSpec({ cron: '0 * * * *' })]), new Date());
    const b = await jobInsert(db.pool, jobSpec('list-b', [scheduleSpec({ every: '30s' }), scheduleSpec({ cron: '0 0 * * *' })]), new Date());
    const all = await schedulesList(db.pool, { projectId });
    const names = all.map((r) => r.job_name);
    expect(names.filter((n) => n.startsWith('list-'))).toEqual(['list-a', 'list-b', 'list-b']);
    expect(names).toEqual([...names].sort());
    expect((await schedulesList(db.pool, { projectId, jobId: b.jobId })).map((r) => r.description)).toEqual([
      'Every 30 seconds',
      'At 00:00 every day, UTC',
    ]);
    expect(await schedulesList(db.pool, { projectId, jobId: 'nope' })).toEqual([]);
    const other = await db.pool.query<{ id: string }>(`INSERT INTO hostrun.projects (slug, name) VALUES ('other', 'Other') RETURNING id`);
    expect(await schedulesList(db.pool, { projectId: other.rows[0]!.id })).toEqual([]);
    expect(await scheduleGet(db.pool, other.rows[0]!.id, a.scheduleIds[0]!)).toBeNull();
    expect(await scheduleGet(db.pool, projectId, a.scheduleIds[0]!)).toMatchObject({ job_name: 'list-a', job_enabled: true });
    expect(await scheduleGet(db.pool, projectId, 'x')).toBeNull();
  });
});
