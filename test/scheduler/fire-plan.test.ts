import { describe, expect, it } from 'vitest';
import type { ScheduleTiming } from '../../src/core/cron.ts';
import { graceMs, MAX_FIRES_PER_PASS, planFires } from '../../src/scheduler/fire-plan.ts';

const at = (iso: string) => new Date(iso);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const minutely: ScheduleTiming = { cron: '* * * * *', timezone: 'UTC', anchorAt: at('2026-01-01T00:00:00Z') };
const fiveMinutely: ScheduleTiming = { ...minutely, cron: '*/5 * * * *' };
const everySecond: ScheduleTiming = { cron: '* * * * * *', timezone: 'UTC', anchorAt: at('2026-01-01T00:00:00Z') };

describe('planFires', () => {
  it('one fire time due, on time: every policy fires exactly it', () => {
    for (const policy of ['skip', 'once', 'all'] as const) {
      const plan = planFires(minutely, policy, at('2026-05-01T10:00:00Z'), at('2026-05-01T10:00:00.300Z'));
      expect(iso(plan.fireTimes), policy).toEqual(['2026-05-01T10:00:00.000Z']);
      expect(plan.nextFireAt).toEqual(at('2026-05-01T10:01:00Z'));
    }
  });

  it('after ten missed periods, back 90 s after the tenth: skip 0, once 1 (the latest), all 10', () => {
    const due = at('2026-05-01T10:05:00Z');
    const now = at('2026-05-01T10:51:30Z');
    expect(planFires(fiveMinutely, 'skip', due, now).fireTimes).toEqual([]);
    expect(iso(planFires(fiveMinutely, 'once', due, now).fireTimes)).toEqual(['2026-05-01T10:50:00.000Z']);
    const all = planFires(fiveMinutely, 'all', due, now);
    expect(all.fireTimes).toHaveLength(10);
    expect(all.fireTimes[0]).toEqual(due);
    expect(all.fireTimes[9]).toEqual(at('2026-05-01T10:50:00Z'));
    for (const policy of ['skip', 'once', 'all'] as const) {
      expect(planFires(fiveMinutely, policy, due, now).nextFireAt).toEqual(at('2026-05-01T10:55:00Z'));
    }
  });

  it('skip: a schedule firing at least every minute always fires its latest fire time (it is never a period late)', () => {
    const plan = planFires(minutely, 'skip', at('2026-05-01T10:01:00Z'), at('2026-05-01T10:10:59Z'));
    expect(iso(plan.fireTimes)).toEqual(['2026-05-01T10:10:00.000Z']);
  });

  it('skip still fires the latest fire time when it is within its grace', () => {
    const plan = planFires(fiveMinutely, 'skip', at('2026-05-01T10:05:00Z'), at('2026-05-01T10:50:40Z'));
    expect(iso(plan.fireTimes)).toEqual(['2026-05-01T10:50:00.000Z']);
  });

  it('grace is 60 s, or one period for faster schedules', () => {
    expect(graceMs(minutely, at('2026-05-01T10:00:00Z'))).toBe(60_000);
    expect(graceMs({ ...minutely, cron: '0 * * * *' }, at('2026-05-01T10:00:00Z'))).toBe(60_000);
    expect(graceMs(everySecond, at('2026-05-01T10:00:00Z'))).toBe(1000);
    expect(graceMs({ everySeconds: 20, timezone: 'UTC', anchorAt: at('2026-05-01T00:00:00Z') }, at('2026-05-01T10:00:00Z'))).toBe(20_000);
  });

  it('all is bounded per pass and resumes where it stopped', () => {
    const due = at('2026-05-01T00:00:01Z');
    const now = at('2026-05-01T01:00:00Z'); // 3600 fire times due
    const first = planFires(everySecond, 'all', due, now);
    expect(first.fireTimes).toHaveLength(MAX_FIRES_PER_PASS);
    expect(first.nextFireAt).toEqual(at('2026-05-01T00:16:41Z'));
    const second = planFires(everySecond, 'all', first.nextFireAt!, now);
    expect(second.fireTimes[0]).toEqual(at('2026-05-01T00:16:41Z'));
  });

  it('intervals: the latest missed fire time lies on the anchored grid', () => {
    const every15m: ScheduleTiming = { everySeconds: 900, timezone: 'UTC', anchorAt: at('2026-05-01T10:03:27Z') };
    const plan = planFires(every15m, 'once', at('2026-05-01T10:18:27Z'), at('2026-05-01T12:00:00Z'));
    expect(iso(plan.fireTimes)).toEqual(['2026-05-01T11:48:27.000Z']);
    expect(plan.nextFireAt).toEqual(at('2026-05-01T12:03:27Z'));
  });
});
