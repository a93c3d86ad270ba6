import { describe, expect, it } from 'vitest';
import {
  describeSchedule,
  fireTimesBetween,
  latestFireTime,
  nextFireTime,
  parseEvery,
  validateCron,
  type ScheduleTiming,
} from '../../src/core/cron.ts';
import { HostrunError } from '../../src/core/errors.ts';

const at = (iso: string) => new Date(iso);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const cron = (expr: string, timezone = 'UTC'): ScheduleTiming => ({ cron: expr, timezone, anchorAt: at('2026-01-01T00:00:00Z') });

/** The local calendar date of an instant in a zone, e.g. 2026-03-29. */
function localDate(d: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

function localTime(d: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', timeZoneName: 'shortOffset' }).formatToParts(d);
  const part = (type: string) => parts.find((p) => p.type === type)?.value;
  return `${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}

function firesOn(timing: ScheduleTiming, date: string, from: string, until: string): Date[] {
  return fireTimesBetween(timing, at(from), at(until), 10_000).filter((d) => localDate(d, timing.timezone) === date);
}

function expectSpecError(fn: () => unknown, message: RegExp) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HostrunError);
    expect((err as HostrunError).code).toBe('invalid_spec');
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected an invalid_spec error');
}

describe('validateCron', () => {
  it('accepts five and six fields and nicknames', () => {
    for (const expr of ['* * * * *', '30 2 * * *', '*/15 9-17 * * MON-FRI', '*/10 * * * * *', '0 0 12 1 * *', '@hourly', '@daily']) {
      expect(() => validateCron(expr, 'Europe/Berlin'), expr).not.toThrow();
    }
  });

  it('rejects bad expressions with invalid_spec and a reason', () => {
    expectSpecError(() => validateCron('61 * * * *', 'UTC'), /invalid cron expression "61 \* \* \* \*": .*minute/);
    expectSpecError(() => validateCron('* * *', 'UTC'), /invalid cron expression/);
    expectSpecError(() => validateCron('0 0 0 * * * 2030', 'UTC'), /5 or 6 parts/);
    expectSpecError(() => validateCron('', 'UTC'), /empty/);
    expectSpecError(() => validateCron('@reboot', 'UTC'), /invalid cron expression/);
    expectSpecError(() => validateCron('0 0 30 2 *', 'UTC'), /never fires/);
  });

  it('rejects unknown time zones', () => {
    expectSpecError(() => validateCron('* * * * *', 'Mars/Olympus_Mons'), /unknown time zone "Mars\/Olympus_Mons"/);
  });
});

describe('parseEvery', () => {
  it('reads seconds, minutes, hours, days and combinations', () => {
    expect(parseEvery('30s')).toBe(30);
    expect(parseEvery('15m')).toBe(900);
    expect(parseEvery('1h')).toBe(3600);
    expect(parseEvery('2d')).toBe(172_800);
    expect(parseEvery('1h30m')).toBe(5400);
    expect(parseEvery('366d')).toBe(366 * 86_400);
  });

  it('rejects nonsense, under a second and over 366 days', () => {
    expectSpecError(() => parseEvery('0s'), /shorter than 1 second/);
    expectSpecError(() => parseEvery('367d'), /longer than 366 days/);
    for (const bad of ['', '10', '1.5h', 'h', '5 minutes', '-5m', '1m1h']) {
      expectSpecError(() => parseEvery(bad), /invalid interval/);
    }
  });
});

describe('nextFireTime and fireTimesBetween', () => {
  it('five fields: strictly after the given instant', () => {
    const hourly = cron('0 * * * *');
    expect(nextFireTime(hourly, at('2026-05-01T10:00:00Z'))).toEqual(at('2026-05-01T11:00:00Z'));
    expect(nextFireTime(hourly, at('2026-05-01T09:59:59.999Z'))).toEqual(at('2026-05-01T10:00:00Z'));
    expect(iso(fireTimesBetween(hourly, at('2026-05-01T10:00:00Z'), at('2026-05-01T13:00:00Z'), 10))).toEqual([
      '2026-05-01T11:00:00.000Z',
      '2026-05-01T12:00:00.000Z',
      '2026-05-01T13:00:00.000Z',
    ]);
    expect(fireTimesBetween(hourly, at('2026-05-01T10:00:00Z'), at('2026-05-02T10:00:00Z'), 5)).toHaveLength(5);
  });

  it('six fields: seconds first', () => {
    const tenSeconds = cron('*/10 * * * * *');
    expect(iso(fireTimesBetween(tenSeconds, at('2026-05-01T10:00:00Z'), at('2026-05-01T10:00:30Z'), 10))).toEqual([
      '2026-05-01T10:00:10.000Z',
      '2026-05-01T10:00:20.000Z',
      '2026-05-01T10:00:30.000Z',
    ]);
    expect(nextFireTime(cron('15 30 9 * * *', 'Europe/Berlin'), at('2026-07-01T00:00:00Z'))).toEqual(at('2026-07-01T07:30:15Z'));
  });

  it('reads the expression in its time zone', () => {
    expect(nextFireTime(cron('0 9 * * *', 'America/New_York'), at('2026-07-01T00:00:00Z'))).toEqual(at('2026-07-01T13:00:00Z'));
    expect(nextFireTime(cron('0 9 * * *', 'Asia/Kolkata'), at('2026-07-01T00:00:00Z'))).toEqual(at('2026-07-01T03:30:00Z'));
  });

  it('latestFireTime counts a fire time exactly at the instant', () => {
    const hourly = cron('0 * * * *');
    expect(latestFireTime(hourly, at('2026-05-01T10:00:00Z'))).toEqual(at('2026-05-01T10:00:00Z'));
    expect(latestFireTime(hourly, at('2026-05-01T10:59:59Z'))).toEqual(at('2026-05-01T10:00:00Z'));
  });

  it('intervals are anchored: no drift over 1000 periods', () => {
    const anchorAt = at('2026-01-01T10:03:27Z');
    const every: ScheduleTiming = { everySeconds: 7 * 60 + 13, timezone: 'Europe/Berlin', anchorAt };
    const period = every.everySeconds! * 1000;
    // Stepping from fire time to fire time...
    let t = anchorAt;
    for (let k = 1; k <= 1000; k++) {
      t = nextFireTime(every, t)!;
      expect(t.getTime()).toBe(anchorAt.getTime() + k * period);
    }
    // ...and from arbitrary instants in between (a late scheduler) land on the same grid.
    expect(nextFireTime(every, new Date(anchorAt.getTime() + 500.5 * period))).toEqual(new Date(anchorAt.getTime() + 501 * period));
    expect(latestFireTime(every, new Date(anchorAt.getTime() + 999.99 * period))).toEqual(new Date(anchorAt.getTime() + 999 * period));
    expect(fireTimesBetween(every, anchorAt, new Date(anchorAt.getTime() + 1000 * period), 5000)).toHaveLength(1000);
    // Before the anchor the first fire time is the anchor itself; nothing fired before it.
    expect(nextFireTime(every, at('2025-12-31T00:00:00Z'))).toEqual(anchorAt);
    expect(latestFireTime(every, at('2025-12-31T00:00:00Z'))).toBeNull();
  });

  it('intervals ignore daylight saving time: one hour is one hour', () => {
    const hourly: ScheduleTiming = { everySeconds: 3600, timezone: 'Europe/Berlin', anchorAt: at('2026-03-28T00:00:00Z') };
    expect(firesOn(hourly, '2026-03-29', '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z')).toHaveLength(23);
  });
});

describe('daylight saving time', () => {
  const berlin = cron('30 2 * * *', 'Europe/Berlin');

  it('Europe/Berlin spring forward: 02:30 does not exist on 2026-03-29 and fires once, at 03:00 CEST', () => {
    const fires = firesOn(berlin, '2026-03-29', '2026-03-27T12:00:00Z', '2026-03-31T12:00:00Z');
    expect(iso(fires)).toEqual(['2026-03-29T01:00:00.000Z']);
    expect(localTime(fires[0]!, 'Europe/Berlin')).toBe('03:00 GMT+2');
    // The days either side keep 02:30.
    expect(iso(fireTimesBetween(berlin, at('2026-03-27T12:00:00Z'), at('2026-03-30T12:00:00Z'), 10))).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('Europe/Berlin fall back: 02:30 happens twice on 2026-10-25 and fires once, at the first', () => {
    const fires = firesOn(berlin, '2026-10-25', '2026-10-23T12:00:00Z', '2026-10-27T12:00:00Z');
    expect(iso(fires)).toEqual(['2026-10-25T00:30:00.000Z']);
    expect(localTime(fires[0]!, 'Europe/Berlin')).toBe('02:30 GMT+2');
    // Asked from between the two 02:30s, it does not fire at the second one either.
    expect(nextFireTime(berlin, at('2026-10-25T00:30:00Z'))).toEqual(at('2026-10-26T01:30:00Z'));
    expect(nextFireTime(berlin, at('2026-10-25T01:00:00Z'))).toEqual(at('2026-10-26T01:30:00Z'));
  });

  it('America/New_York: once on 2026-03-08 (02:30 missing) and once on 2026-11-01 (01:30 twice)', () => {
    const spring = cron('30 2 * * *', 'America/New_York');
    const springFires = firesOn(spring, '2026-03-08', '2026-03-06T12:00:00Z', '2026-03-10T12:00:00Z');
    expect(iso(springFires)).toEqual(['2026-03-08T07:00:00.000Z']);
    expect(localTime(springFires[0]!, 'America/New_York')).toBe('03:00 GMT-4');

    const fall = cron('30 1 * * *', 'America/New_York');
    const fallFires = firesOn(fall, '2026-11-01', '2026-10-30T12:00:00Z', '2026-11-03T12:00:00Z');
    expect(iso(fallFires)).toEqual(['2026-11-01T05:30:00.000Z']);
    expect(localTime(fallFires[0]!, 'America/New_York')).toBe('01:30 GMT-4');
  });

  it('a list of fixed times is fixed-time too: each time once, on both change days', () => {
    const twice = cron('30 2,14 * * *', 'Europe/Berlin');
    expect(iso(firesOn(twice, '2026-03-29', '2026-03-27T12:00:00Z', '2026-03-31T12:00:00Z'))).toEqual([
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, for the missing 02:30
      '2026-03-29T12:30:00.000Z',
    ]);
    expect(iso(firesOn(twice, '2026-10-25', '2026-10-23T12:00:00Z', '2026-10-27T12:00:00Z'))).toEqual([
      '2026-10-25T00:30:00.000Z', // the first 02:30
      '2026-10-25T13:30:00.000Z',
    ]);
  });

  it('interval-like expressions keep their rhythm in real time across both changes', () => {
    const halfHourly = cron('*/30 * * * *', 'Europe/Berlin');
    expect(firesOn(halfHourly, '2026-03-29', '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z')).toHaveLength(46); // 23 h
    expect(firesOn(halfHourly, '2026-10-25', '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z')).toHaveLength(50); // 25 h
  });
});

describe('describeSchedule', () => {
  const words = (cronExpr: string, timezone = 'Europe/Berlin') => describeSchedule({ cron: cronExpr, timezone });

  it('cron shapes people write', () => {
    expect(words('0 * * * *')).toBe('Every hour, Europe/Berlin');
    expect(words('@hourly')).toBe('Every hour, Europe/Berlin');
    expect(words('15 * * * *')).toBe('At minute 15 past every hour, Europe/Berlin');
    expect(words('30 2 * * *')).toBe('At 02:30 every day, Europe/Berlin');
    expect(words('@daily', 'UTC')).toBe('At 00:00 every day, UTC');
    expect(words('0 9,17 * * *')).toBe('At 09:00 and 17:00 every day, Europe/Berlin');
    expect(words('0 9 * * 1-5')).toBe('At 09:00 on Monday through Friday, Europe/Berlin');
    expect(words('0 9 * * MON-FRI')).toBe('At 09:00 on Monday through Friday, Europe/Berlin');
    expect(words('0 9 * * 1,3,5')).toBe('At 09:00 on Monday, Wednesday and Friday, Europe/Berlin');
    expect(words('@weekly')).toBe('At 00:00 every Sunday, Europe/Berlin');
    expect(words('0 6 1 * *')).toBe('At 06:00 on day 1 of every month, Europe/Berlin');
    expect(words('0 0 L * *')).toBe('At 00:00 on the last day of every month, Europe/Berlin');
    expect(words('@yearly')).toBe('At 00:00 on 1 January, Europe/Berlin');
    expect(words('0 */6 * * *')).toBe('Every 6 hours, Europe/Berlin');
    expect(words('0 0 2 * * *')).toBe('At 02:00 every day, Europe/Berlin');
  });

  it('sub-hour rhythms do not name the zone', () => {
    expect(words('* * * * *')).toBe('Every minute');
    expect(words('*/15 * * * *')).toBe('Every 15 minutes');
    expect(words('*/30 * * * * *')).toBe('Every 30 seconds');
    expect(words('* * * * * *')).toBe('Every second');
  });

  it('intervals', () => {
    expect(describeSchedule({ everySeconds: 30, timezone: 'UTC' })).toBe('Every 30 seconds');
    expect(describeSchedule({ everySeconds: 900, timezone: 'UTC' })).toBe('Every 15 minutes');
    expect(describeSchedule({ everySeconds: 3600, timezone: 'UTC' })).toBe('Every hour');
    expect(describeSchedule({ everySeconds: 5400, timezone: 'UTC' })).toBe('Every 90 minutes');
    expect(describeSchedule({ everySeconds: 172_800, timezone: 'UTC' })).toBe('Every 2 days');
  });

  it('falls back to the expression rather than describing it wrongly', () => {
    expect(words('*/7 * * * *')).toBe('*/7 * * * *, Europe/Berlin');
    expect(words('0 9 * * 5#2')).toBe('0 9 * * 5#2, Europe/Berlin');
    expect(words('0 9 1 * 1')).toBe('0 9 1 * 1, Europe/Berlin');
    expect(words('5,35 * * * *')).toBe('5,35 * * * *, Europe/Berlin');
  });
});
