// Which fire times of one due schedule become runs in this pass, and when it is due next.
// Pure, so every misfire case is tested without a database or a clock.

import { fireTimesBetween, latestFireTime, nextFireTime, type MisfirePolicy, type ScheduleTiming } from '../core/cron.ts';

export type { MisfirePolicy };

/**
 * `all` backfills at most this many fire times per schedule per pass, so a schedule that fires
 * every second and was down for a day cannot hold a transaction open for minutes or insert
 * 86,400 runs in one statement. The rest follow in the next passes: next_fire_at is left on the
 * first fire time not yet created, which is still due, so the loop comes straight back to it.
 */
export const MAX_FIRES_PER_PASS = 1000;

/** Upper bound of the lateness a fire time may have and still count as on time (`skip`). */
export const MAX_GRACE_MS = 60_000;

export interface FirePlan {
  /** Fire times to create runs for, oldest first. */
  fireTimes: Date[];
  /** The schedule's next fire time after this pass; null when it never fires again. */
  nextFireAt: Date | null;
}

/**
 * How late fire time `t` may be and still be on time: 60 s, or one period when the schedule
 * fires more often than that. 60 s absorbs what a healthy scheduler costs (the poll interval,
 * a slow pass, a restart during a deploy); the cap at one period means a fire time is never on
 * time once the next one is already due, so `skip` never runs a stale fire next to a fresh one.
 */
export function graceMs(timing: ScheduleTiming, t: Date): number {
  const next = nextFireTime(timing, t);
  return next === null ? MAX_GRACE_MS : Math.min(MAX_GRACE_MS, next.getTime() - t.getTime());
}

/**
 * `dueAt` is the schedule's next_fire_at, at or before `now`.
 * - all:  every fire time from dueAt up to now (at most MAX_FIRES_PER_PASS per pass).
 * - once: the latest fire time at or before now only; one that was just due is exactly that one.
 * - skip: the latest fire time if it is within its grace (graceMs), else nothing.
 */
export function planFires(timing: ScheduleTiming, policy: MisfirePolicy, dueAt: Date, now: Date): FirePlan {
  const nextAfterNow = () => nextFireTime(timing, now);
  if (policy === 'all') {
    const fireTimes = [dueAt, ...fireTimesBetween(timing, dueAt, now, MAX_FIRES_PER_PASS - 1)];
    const last = fireTimes[fireTimes.length - 1]!;
    const following = nextFireTime(timing, last);
    // Cut short by the bound: resume the backfill at the first fire time not yet created.
    if (following !== null && following.getTime() <= now.getTime()) return { fireTimes, nextFireAt: following };
    return { fireTimes, nextFireAt: nextAfterNow() };
  }
  // next_fire_at is always a fire time, so the latest one is never before it; the guard only
  // matters if the row was written by hand.
  const found = latestFireTime(timing, now);
  const latest = found !== null && found.getTime() >= dueAt.getTime() ? found : dueAt;
  if (policy === 'once') return { fireTimes: [latest], nextFireAt: nextAfterNow() };
  const onTime = now.getTime() - latest.getTime() <= graceMs(timing, latest);
  return { fireTimes: onTime ? [latest] : [], nextFireAt: nextAfterNow() };
}
