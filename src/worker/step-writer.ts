import type { Pool } from '../db/pool.ts';
import { stepsToJson, type StepState } from '../queue/protocol.ts';

export type { StepState };

// Step states are written the way logs are: queued, coalesced per (run, step) so a step that
// goes pending -> running -> succeeded before it is written is written once, and flushed by one
// loop in one statement (hostrun.upsert_run_steps, into runs.steps). When a run finishes, its
// states that are still queued travel with its completion instead (takeRun), which saves a
// statement per batch.
// A state is written once it has waited FLUSH_AFTER_MS, so runs shorter than that (no-op and
// sleep steps, quick scripts) never cost a step statement of their own, while a viewer of a
// longer run sees its steps change at most that much later.

const FLUSH_AFTER_MS = 100;

interface Queued {
  state: StepState;
  /** When the (run, step) was first queued since its last write (performance.now()). */
  since: number;
}

export class StepWriter {
  private pending = new Map<string, Queued>();
  /** The write under way and the runs in it, so takeRun and drainRun can wait for it. */
  private inFlight: Promise<void> | null = null;
  private inFlightRuns = new Set<number>();
  private flushing = false;

  constructor(
    private readonly pool: Pool,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  update(state: StepState): void {
    const key = `${state.runId}:${state.idx}`;
    const queued = this.pending.get(key);
    // Updating an entry keeps its place in the map: the map stays in order of `since`.
    if (queued) queued.state = { ...queued.state, ...state };
    else this.pending.set(key, { state, since: performance.now() });
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flushLoop());
    }
  }

  /**
   * Removes and returns the run's states not yet written, after any write of its earlier
   * states has landed (so the caller's write cannot be overtaken by an older one).
   */
  async takeRun(runId: number): Promise<StepState[]> {
    while (this.inFlight && this.inFlightRuns.has(runId)) await this.inFlight;
    const taken: StepState[] = [];
    for (const [key, { state }] of this.pending) {
      if (state.runId !== runId) continue;
      taken.push(state);
      this.pending.delete(key);
    }
    return taken;
  }

  /** Resolves when every state of this run queued so far is written. */
  async drainRun(runId: number): Promise<void> {
    for (;;) {
      if (this.inFlight && this.inFlightRuns.has(runId)) await this.inFlight;
      else if ([...this.pending.values()].some((q) => q.state.runId === runId)) await new Promise((r) => setTimeout(r, 10));
      else return;
    }
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const cutoff = performance.now() - FLUSH_AFTER_MS;
        const batch: StepState[] = [];
        for (const [key, q] of this.pending) {
          if (q.since > cutoff) break;
          batch.push(q.state);
          this.pending.delete(key);
        }
        if (batch.length === 0) {
          const oldest = this.pending.values().next().value!;
          await new Promise((r) => setTimeout(r, oldest.since - cutoff));
          continue;
        }
        const byRun = new Map<number, StepState[]>();
        for (const s of batch) byRun.set(s.runId, [...(byRun.get(s.runId) ?? []), s]);
        this.inFlightRuns = new Set(byRun.keys());
        this.inFlight = this.write(byRun);
        await this.inFlight;
        this.inFlight = null;
        this.inFlightRuns = new Set();
      }
    } finally {
      this.flushing = false;
    }
  }

  private async write(byRun: Map<number, StepState[]>): Promise<void> {
    const runs = [...byRun.values()];
    try {
      await this.pool.query(`SELECT hostrun.upsert_run_steps($1, $2, $3::json[])`, [
        runs.map((states) => states[0]!.runId),
        runs.map((states) => states[0]!.attempt),
        runs.map(stepsToJson),
      ]);
    } catch (err) {
      this.onError(err);
    }
  }
}

