import type { Pool } from '../db/pool.ts';
import { stepsToJson, type StepState } from '../queue/protocol.ts';

export type { StepState };

// Step states are written the way logs are: queued, coalesced per (run, step) so a step that
// goes pending -> running -> succeeded within one turn costs one row, and flushed by one loop
// in one statement (hostrun.upsert_run_steps). When a run finishes, its states that are still
// queued travel with its completion instead (takeRun), which saves a statement per batch.

export class StepWriter {
  private pending = new Map<string, StepState>();
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
    this.pending.set(key, { ...this.pending.get(key), ...state });
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
    for (const [key, state] of this.pending) {
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
      else if ([...this.pending.values()].some((s) => s.runId === runId)) await new Promise((r) => setImmediate(r));
      else return;
    }
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const batch = [...this.pending.values()];
        this.pending.clear();
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
      await this.pool.query(`SELECT hostrun.upsert_run_steps($1, $2, $3::jsonb[])`, [
        runs.map((states) => states[0]!.runId),
        runs.map((states) => states[0]!.attempt),
        runs.map(stepsToJson),
      ]);
    } catch (err) {
      this.onError(err);
    }
  }
}

