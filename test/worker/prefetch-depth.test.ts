import { describe, expect, it } from 'vitest';
import { PrefetchDepth } from '../../src/worker/prefetch-depth.ts';

// An injected clock: the depth depends on pace, so the test sets the pace exactly.
function clocked(max: number) {
  let now = 0;
  const depth = new PrefetchDepth(max, () => now);
  return {
    depth,
    /** `runs` finishing evenly over `ms`. */
    finish(runs: number, ms: number) {
      for (let i = 0; i < runs; i++) {
        now += ms / runs;
        depth.recordFinish();
      }
    },
    idle(ms: number) {
      now += ms;
    },
  };
}

describe('prefetch depth', () => {
  it('holds nothing ahead before any run has finished', () => {
    expect(clocked(500).depth.current()).toBe(0);
  });

  it('follows the pace: about 100 ms of runs at the current rate', () => {
    const c = clocked(500);
    c.finish(2000, 1000); // 2,000 runs/s for a second: the average has settled near the rate
    expect(c.depth.current()).toBeGreaterThan(150);
    expect(c.depth.current()).toBeLessThanOrEqual(200);
  });

  it('holds next to nothing for runs that take seconds', () => {
    const c = clocked(500);
    c.finish(8, 2000); // 8 slots, runs of ~2 s
    expect(c.depth.current()).toBe(0);
  });

  it('is capped by the prefetch option, and 0 turns it off', () => {
    const fast = clocked(50);
    fast.finish(20_000, 1000);
    expect(fast.depth.current()).toBe(50);
    const off = clocked(0);
    off.finish(20_000, 1000);
    expect(off.depth.current()).toBe(0);
  });

  it('falls back to nothing once the runs stop', () => {
    const c = clocked(500);
    c.finish(5000, 1000);
    c.idle(3000);
    expect(c.depth.current()).toBe(0);
  });
});
