import { HostrunError } from '../core/errors.ts';

// Sign-in throttling, in process: after MAX_FAILURES wrong passwords for one (IP, email) within
// WINDOW_MS, that pair must wait until the window passes; an IP failing against many accounts
// is capped as well. Kept in memory on purpose: it only has to make guessing slow, and several
// server processes each allowing a few more attempts does not change that.

const WINDOW_MS = 15 * 60_000;
const MAX_FAILURES = 5;
const MAX_FAILURES_PER_IP = 50;
/** Entries are dropped when stale; this bounds memory under a flood of distinct keys. */
const MAX_ENTRIES = 100_000;

interface Entry {
  failures: number[];
}

export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Throws `rate_limited` when this IP and email may not try again yet. */
  check(ip: string, email: string): void {
    for (const key of [pairKey(ip, email), ipKey(ip)]) {
      const limit = key.startsWith('ip|') ? MAX_FAILURES_PER_IP : MAX_FAILURES;
      const recent = this.recent(key);
      if (recent.length >= limit) {
        const retryAfter = Math.ceil((recent[0]! + WINDOW_MS - this.now()) / 1000);
        throw new HostrunError('rate_limited', `too many failed sign-ins: try again in ${Math.max(1, Math.ceil(retryAfter / 60))} min`, {
          details: [{ path: 'retry_after', message: String(Math.max(1, retryAfter)) }],
        });
      }
    }
  }

  fail(ip: string, email: string): void {
    if (this.entries.size > MAX_ENTRIES) this.prune();
    for (const key of [pairKey(ip, email), ipKey(ip)]) {
      const entry = this.entries.get(key) ?? { failures: [] };
      entry.failures = [...this.recent(key), this.now()];
      this.entries.set(key, entry);
    }
  }

  succeed(ip: string, email: string): void {
    this.entries.delete(pairKey(ip, email));
  }

  private recent(key: string): number[] {
    const since = this.now() - WINDOW_MS;
    return (this.entries.get(key)?.failures ?? []).filter((t) => t > since);
  }

  private prune(): void {
    for (const key of [...this.entries.keys()]) if (this.recent(key).length === 0) this.entries.delete(key);
  }
}

function pairKey(ip: string, email: string): string {
  return `pair|${ip}|${email.toLowerCase()}`;
}

function ipKey(ip: string): string {
  return `ip|${ip}`;
}
