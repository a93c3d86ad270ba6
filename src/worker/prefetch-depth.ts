// How many runs a worker holds in its local queue beyond its free slots.
//
// Claiming ahead turns one claim statement per slot cycle into one per few hundred runs, and
// a run taken from the local queue starts without waiting for the database. But every run
// held locally is one that another worker with free slots cannot take, so a fixed depth is
// wrong both ways: hundreds of ten-minute runs parked on one worker, or a backlog of short
// runs claimed a slot's worth at a time. The depth therefore follows this worker's own pace:
// enough runs to keep its slots busy for HORIZON_MS (a claim round trip or two under load),
// capped by the worker's `prefetch` option. A worker whose runs take seconds holds next to
// nothing ahead; one draining a backlog of no-op runs holds hundreds.

/** How far ahead, in time at the current pace, the local queue reaches. */
const HORIZON_MS = 100;
/** Time constant of the pace estimate: long enough to ride out one slow batch, short enough to follow a burst. */
const TAU_MS = 250;

export class PrefetchDepth {
  /** Runs finished per second, an exponentially decaying average. */
  private rate = 0;
  private at: number;

  constructor(
    private readonly max: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.at = now();
  }

  /** A run left its slot. */
  recordFinish(): void {
    this.decay();
    this.rate += 1000 / TAU_MS;
  }

  /** Runs to hold ahead of the free slots right now. */
  current(): number {
    if (this.max <= 0) return 0;
    this.decay();
    return Math.min(this.max, Math.floor((this.rate * HORIZON_MS) / 1000));
  }

  private decay(): void {
    const t = this.now();
    this.rate *= Math.exp(-(t - this.at) / TAU_MS);
    this.at = t;
  }
}
