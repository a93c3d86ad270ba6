// Fire times of schedules: cron expressions (through croner) and fixed intervals (interval.ts).
//
// Pure: no I/O, and no clock unless a caller leaves `now` out of validateCron. Callers pass
// `after` / `at` explicitly, so the scheduler and its tests decide what time it is.
//
// Daylight saving time follows croner, set to read expressions as Vixie cron does
// (fixedTimeRule "no-wildcard"):
// - A fixed-time expression (no wildcard and no step in seconds, minutes and hours, e.g.
//   `30 2 * * *` or `30 2,14 * * *`) fires each of its times exactly once a day whatever the
//   clocks do. On a spring-forward day a missing local time fires at the first valid time after
//   the gap: in Europe/Berlin on 2026-03-29, `30 2 * * *` fires at 03:00 CEST (01:00Z). On a
//   fall-back day a repeated local time fires at its first occurrence only: 2026-10-25 02:30
//   CEST (00:30Z), not again at 02:30 CET.
// - An interval-like expression (a wildcard or step there, e.g. `*/30 * * * *`) skips the times
//   a gap swallows and fires on both passes through a repeated hour, so it keeps its rhythm in
//   real time.
// croner's default rule counts only single values as fixed, so `30 2,14 * * *` would skip its
// 02:30 on the spring-forward day and run it twice on the fall-back day; nobody means that.

import { Cron } from 'croner';
import { HostrunError } from './errors.ts';
import type { ScheduleSpec } from './types.ts';
import { describeEvery, intervalLatest, intervalNext } from './interval.ts';

export { describeEvery, parseEvery, MAX_EVERY_SECONDS, MIN_EVERY_SECONDS } from './interval.ts';

/** What to do with fire times missed while no scheduler ran (see scheduler/fire-plan.ts). */
export type MisfirePolicy = ScheduleSpec['misfire'];

/** The timing part of a schedule: exactly one of `cron` and `everySeconds` is set. */
export interface ScheduleTiming {
  cron?: string | null;
  everySeconds?: number | null;
  /** IANA time zone the cron expression is read in (intervals ignore it). */
  timezone: string;
  /** Interval schedules fire at anchorAt + k * everySeconds (k >= 0), so they never drift. */
  anchorAt: Date;
}

const knownZones = new Set<string>(['UTC']);

/** Throws invalid_spec unless `timezone` is an IANA zone this Node knows. */
export function validateTimezone(timezone: string): void {
  if (knownZones.has(timezone)) return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new HostrunError('invalid_spec', `unknown time zone "${timezone}" (use an IANA name such as Europe/Berlin or UTC)`);
  }
  knownZones.add(timezone);
}

// croner parses a pattern on construction; the scheduler asks about the same few patterns on
// every pass, so parsed ones are kept. Bounded, so a stream of distinct patterns cannot grow it.
const cronCache = new Map<string, Cron>();
const CRON_CACHE_MAX = 1000;

function cronFor(expr: string, timezone: string): Cron {
  const key = `${timezone}\u0000${expr}`;
  let cron = cronCache.get(key);
  if (!cron) {
    // Five or six fields (seconds first). croner's seven-field form with years is not offered,
    // so an expression means here what it means in any cron. Day-of-month and day-of-week
    // combine with OR, as in Vixie cron.
    cron = new Cron(expr, { timezone, paused: true, mode: '5-or-6-parts', fixedTimeRule: 'no-wildcard' });
    if (cronCache.size >= CRON_CACHE_MAX) cronCache.clear();
    cronCache.set(key, cron);
  }
  return cron;
}

/**
 * Throws HostrunError('invalid_spec') unless `expr` is a five- or six-field cron expression (or a
 * nickname such as `@hourly`) that fires at least once from now on, read in `timezone`.
 */
export function validateCron(expr: string, timezone: string, now: Date = new Date()): void {
  validateTimezone(timezone);
  const trimmed = expr.trim();
  if (trimmed === '') throw new HostrunError('invalid_spec', 'cron expression is empty');
  let cron: Cron;
  try {
    cron = cronFor(trimmed, timezone);
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).replace(/^CronPattern:\s*/, '');
    throw new HostrunError('invalid_spec', `invalid cron expression "${expr}": ${why}`, { cause: err });
  }
  // `0 0 30 2 *` parses but never fires; a schedule that can never run is a mistake worth naming.
  if (cron.nextRun(now) === null) {
    throw new HostrunError('invalid_spec', `cron expression "${expr}" never fires`);
  }
}

function cronOf(timing: ScheduleTiming): Cron {
  if (!timing.cron) throw new HostrunError('internal', 'schedule has neither a cron expression nor an interval');
  return cronFor(timing.cron.trim(), timing.timezone);
}

/** The first fire time strictly after `after`, or null if the schedule never fires again. */
export function nextFireTime(timing: ScheduleTiming, after: Date): Date | null {
  if (timing.everySeconds != null) return intervalNext(timing.anchorAt, timing.everySeconds, after);
  return cronOf(timing).nextRun(after);
}

/** The last fire time at or before `at`, or null if there is none. */
export function latestFireTime(timing: ScheduleTiming, at: Date): Date | null {
  if (timing.everySeconds != null) return intervalLatest(timing.anchorAt, timing.everySeconds, at);
  // croner's previousRuns is strictly before its reference and fires on whole seconds, so one
  // millisecond past `at` makes `at` itself count.
  const [prev] = cronOf(timing).previousRuns(1, new Date(at.getTime() + 1));
  return prev ?? null;
}

/** Fire times t with afterExclusive < t <= untilInclusive, oldest first, at most `limit`. */
export function fireTimesBetween(timing: ScheduleTiming, afterExclusive: Date, untilInclusive: Date, limit: number): Date[] {
  const out: Date[] = [];
  let t: Date | null = afterExclusive;
  while (out.length < limit) {
    t = nextFireTime(timing, t);
    if (t === null || t.getTime() > untilInclusive.getTime()) break;
    out.push(t);
  }
  return out;
}

/**
 * A schedule in words for lists and the UI: `Every hour, Europe/Berlin`,
 * `At 02:30 every day, Europe/Berlin`, `Every 15 minutes`. The time zone is named whenever it
 * changes when the schedule fires. Shapes without words come back as the expression itself.
 */
export function describeSchedule(timing: Pick<ScheduleTiming, 'cron' | 'everySeconds' | 'timezone'>): string {
  if (timing.everySeconds != null) return describeEvery(timing.everySeconds);
  const expr = (timing.cron ?? '').trim();
  const words = describeCron(expr);
  if (!words) return `${expr}, ${timing.timezone}`;
  return words.zoned ? `${words.text}, ${timing.timezone}` : words.text;
}

// ---------------------------------------------------------------------------------------
// Cron in words. Covers the shapes people write by hand; anything else is left as it is
// rather than described wrongly.
// ---------------------------------------------------------------------------------------

const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_ABBR = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const isNumber = (f: string) => /^\d+$/.test(f);
const isAny = (f: string) => f === '*' || f === '?';
const pad2 = (n: number) => String(n).padStart(2, '0');

/** `*\/N` -> N when N divides `cycle` evenly (otherwise the rhythm breaks at the wrap). */
function evenStep(field: string, cycle: number): number | null {
  const m = /^\*\/(\d+)$/.exec(field);
  if (!m) return null;
  const n = Number(m[1]);
  return n > 0 && cycle % n === 0 ? n : null;
}

function joinWords(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function dayNumber(token: string): number | null {
  if (isNumber(token)) {
    const n = Number(token);
    return n <= 7 ? n % 7 : null;
  }
  const i = DAY_ABBR.indexOf(token.toLowerCase());
  return i >= 0 ? i : null;
}

/** `1-5` -> "on Monday through Friday", `1` -> "every Monday", `1,3,5` -> "on Monday, Wednesday and Friday". */
function describeWeekdays(field: string): string | null {
  const range = /^(\w+)-(\w+)$/.exec(field);
  if (range) {
    const from = dayNumber(range[1]!);
    const to = dayNumber(range[2]!);
    return from === null || to === null ? null : `on ${DAY_NAMES[from]} through ${DAY_NAMES[to]}`;
  }
  const days = field.split(',').map(dayNumber);
  if (days.some((d) => d === null)) return null;
  const names = days.map((d) => DAY_NAMES[d!]!);
  return names.length === 1 ? `every ${names[0]}` : `on ${joinWords(names)}`;
}

function describeCron(expr: string): { text: string; zoned: boolean } | null {
  const expanded = NICKNAMES[expr.toLowerCase()] ?? expr;
  const fields = expanded.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return null;
  const [sec, min, hour, dom, mon, dow] = (fields.length === 6 ? fields : ['0', ...fields]) as [
    string, string, string, string, string, string,
  ];
  const daily = isAny(dom) && isAny(mon) && isAny(dow);

  if (!(isNumber(sec) && Number(sec) === 0)) {
    if (!(isAny(min) && isAny(hour) && daily)) return null;
    if (isAny(sec)) return { text: 'Every second', zoned: false };
    const step = evenStep(sec, 60);
    return step ? { text: describeEvery(step), zoned: false } : null;
  }

  if (isAny(hour) && daily) {
    if (isAny(min)) return { text: 'Every minute', zoned: false };
    const step = evenStep(min, 60);
    if (step) return { text: describeEvery(step * 60), zoned: false };
    // Zoned: in a zone such as Asia/Kolkata (UTC+05:30) minute 0 is not minute 0 in UTC.
    if (isNumber(min)) return { text: Number(min) === 0 ? 'Every hour' : `At minute ${Number(min)} past every hour`, zoned: true };
    return null;
  }
  if (!isNumber(min)) return null;
  const minute = Number(min);

  const hourStep = evenStep(hour, 24);
  if (hourStep && daily) {
    return { text: `${describeEvery(hourStep * 3600)}${minute === 0 ? '' : ` at minute ${minute}`}`, zoned: true };
  }

  const hours = hour.split(',');
  if (!hours.every(isNumber)) return null;
  const at = `At ${joinWords(hours.map((h) => `${pad2(Number(h))}:${pad2(minute)}`))}`;

  if (daily) return { text: `${at} every day`, zoned: true };
  if (isAny(dom) && isAny(mon)) {
    const days = describeWeekdays(dow);
    return days ? { text: `${at} ${days}`, zoned: true } : null;
  }
  if (!isAny(dow)) return null;
  if (isAny(mon)) {
    if (dom === 'L') return { text: `${at} on the last day of every month`, zoned: true };
    return isNumber(dom) ? { text: `${at} on day ${Number(dom)} of every month`, zoned: true } : null;
  }
  if (isNumber(dom) && isNumber(mon) && Number(mon) >= 1 && Number(mon) <= 12) {
    return { text: `${at} on ${Number(dom)} ${MONTH_NAMES[Number(mon) - 1]}`, zoned: true };
  }
  return null;
}
