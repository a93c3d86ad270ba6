// Fixed-interval schedules (`every: 15m`): instants anchorAt + k * every for k >= 0.
// Plain arithmetic on instants, so no drift and no time zone: an interval of one hour is
// one hour even on the night the clocks change.

import { HostrunError } from './errors.ts';

export const MIN_EVERY_SECONDS = 1;
export const MAX_EVERY_SECONDS = 366 * 24 * 3600;

/**
 * `30s`, `15m`, `1h`, `2d`, or units combined largest first such as `1h30m` -> seconds.
 * Rejects anything under a second or over 366 days.
 */
export function parseEvery(text: string): number {
  const trimmed = text.trim().toLowerCase();
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(trimmed);
  if (!match || trimmed === '') {
    throw new HostrunError('invalid_spec', `invalid interval "${text}": use a number and a unit, such as 30s, 15m, 1h or 2d`);
  }
  const [, d, h, m, s] = match;
  const seconds = Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
  if (seconds < MIN_EVERY_SECONDS) throw new HostrunError('invalid_spec', `interval "${text}" is shorter than 1 second`);
  if (seconds > MAX_EVERY_SECONDS) throw new HostrunError('invalid_spec', `interval "${text}" is longer than 366 days`);
  return seconds;
}

/** The first instant anchor + k * every (k >= 0) strictly after `after`. */
export function intervalNext(anchorAt: Date, everySeconds: number, after: Date): Date {
  const anchor = anchorAt.getTime();
  const every = everySeconds * 1000;
  const t = after.getTime();
  if (t < anchor) return new Date(anchor);
  return new Date(anchor + (Math.floor((t - anchor) / every) + 1) * every);
}

/** The last instant anchor + k * every (k >= 0) at or before `at`, or null before the anchor. */
export function intervalLatest(anchorAt: Date, everySeconds: number, at: Date): Date | null {
  const anchor = anchorAt.getTime();
  const every = everySeconds * 1000;
  const t = at.getTime();
  if (t < anchor) return null;
  return new Date(anchor + Math.floor((t - anchor) / every) * every);
}

function every(n: number, unit: string): string {
  return n === 1 ? `Every ${unit}` : `Every ${n} ${unit}s`;
}

/** `Every 30 seconds`, `Every 15 minutes`, `Every hour`, `Every 90 minutes`, `Every 2 days`. */
export function describeEvery(everySeconds: number): string {
  if (everySeconds % 86400 === 0) return every(everySeconds / 86400, 'day');
  if (everySeconds % 3600 === 0) return every(everySeconds / 3600, 'hour');
  if (everySeconds % 60 === 0) return every(everySeconds / 60, 'minute');
  return every(everySeconds, 'second');
}
