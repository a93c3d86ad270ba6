// The scheduler loop: pass (fire-due.ts), then sleep until shortly before the earliest next
// fire time (the lead) or the poll interval, whichever is sooner, and create that fire time's
// runs ahead, committed at it; a NOTIFY on hostrun_schedules (a spec applied, a schedule paused
// or resumed) cuts the sleep short. Any number may run at once against one database;
// there is no leader to elect (see fire-due.ts for why each fire time still fires once).

import type { Pool } from '../db/pool.ts';
import { listen, type Listener } from '../queue/listener.ts';
import { schedulesEarliestDue, schedulesFireAhead, schedulesFireDue, type SchedulerLogger } from './fire-due.ts';

export type { SchedulerLogger } from './fire-due.ts';

export interface SchedulerOptions {
  pool: Pool;
  /** Where "now" comes from; tests inject one and drive tick() themselves. */
  clock?: { now(): Date };
  /** Longest sleep between passes. Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * Due schedules taken per pass (per transaction). Default 1000: every pass is a transaction
   * with its own commit, so when thousands of schedules share a fire time, fewer and larger
   * passes create them sooner (bench scenario D, 10,000 schedules, without the lead: p99
   * lateness to the commit 1.48 s at 100 per pass, 1.27 s at 1000; with it, 5 ms).
   */
  batchSize?: number;
  /** Runs created per pass at most (one statement's worth; see schedulesFireDue). Default 5000. */
  maxRunsPerPass?: number;
  /**
   * How long before a fire time the loop starts creating its runs, to commit them at that time
   * (schedulesFireAhead). Default 2000 ms; 0 creates them only once due. tick() never does.
   */
  leadMs?: number;
  logger?: SchedulerLogger;
  /**
   * Start the loop (and LISTEN) at once. Default true. With false nothing runs on its own:
   * every pass is a tick() call, which is how tests step an injected clock.
   */
  autoStart?: boolean;
  /** For the LISTEN connection; defaults to the pool's connection string. */
  databaseUrl?: string;
}

export interface Scheduler {
  /** One pass at clock.now(); resolves to the number of runs it created. */
  tick(): Promise<number>;
  /** Stops the loop after the pass in progress and closes the LISTEN connection. Idempotent. */
  stop(): Promise<void>;
}

const silentLogger: SchedulerLogger = { info() {}, error() {} };

// When the earliest due schedule is already due yet this pass did not take it, another
// scheduler holds it (SKIP LOCKED) and is about to move it on. Look again shortly rather than
// spin on it.
const CONTENDED_RETRY_MS = 50;

export async function startScheduler(opts: SchedulerOptions): Promise<Scheduler> {
  const clock = opts.clock ?? { now: () => new Date() };
  const pollIntervalMs = opts.pollIntervalMs ?? 1000;
  const batchSize = opts.batchSize ?? 1000;
  const maxRuns = opts.maxRunsPerPass ?? 5000;
  const leadMs = opts.leadMs ?? 2000;
  const logger = opts.logger ?? silentLogger;
  const { pool } = opts;

  let stopped = false;
  let wakeRequested = false;
  let wakeSleeper: (() => void) | null = null;
  let listener: Listener | null = null;
  let loopDone: Promise<void> = Promise.resolve();

  const wake = (): void => {
    wakeRequested = true;
    wakeSleeper?.();
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      // A wake-up that came during the pass counts: the pass may have read the old state.
      if (wakeRequested || stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeSleeper = null;
        resolve();
      }
      wakeSleeper = done;
    });

  const tick = async (): Promise<number> => {
    const result = await schedulesFireDue(pool, { now: clock.now(), batchSize, maxRuns, logger });
    return result.created;
  };

  /**
   * After a pass that left nothing due: the next fire time is within the lead, so its runs are
   * created now and committed at it (0 returned: go on at once); or how long to sleep first.
   */
  const aheadOrDelay = async (): Promise<number> => {
    const earliest = await schedulesEarliestDue(pool);
    if (earliest === null) return pollIntervalMs;
    const ms = earliest.getTime() - clock.now().getTime();
    if (ms <= 0) return Math.min(CONTENDED_RETRY_MS, pollIntervalMs);
    if (ms > leadMs) return Math.min(ms - leadMs, pollIntervalMs);
    const taken = await schedulesFireAhead(pool, { fireAt: earliest, clock, batchSize, maxRuns, logger });
    // Nothing taken: another scheduler is creating them. Look again once they are due.
    return taken > 0 ? 0 : Math.min(Math.max(earliest.getTime() - clock.now().getTime(), CONTENDED_RETRY_MS), pollIntervalMs);
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      wakeRequested = false;
      let delay = pollIntervalMs;
      try {
        const { claimed, backlog } = await schedulesFireDue(pool, { now: clock.now(), batchSize, maxRuns, logger });
        // A full batch, or a backfill cut short by its bound, means more is due right now.
        if (claimed >= batchSize || backlog) continue;
        delay = await aheadOrDelay();
        if (delay === 0) continue;
      } catch (err) {
        // The database went away or refused: keep the loop alive and try again after a poll.
        logger.error({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'scheduler pass failed');
      }
      await sleep(delay);
    }
  };

  if (opts.autoStart !== false) {
    const url = opts.databaseUrl ?? pool.options.connectionString;
    if (url) {
      try {
        listener = await listen({
          url,
          channels: ['hostrun_schedules'],
          onNotify: wake,
          // Notifications sent while the connection was down are lost: look again now.
          onReconnect: wake,
          onError: (err) => logger.error({ err: { message: err.message } }, 'scheduler LISTEN connection failed; polling meanwhile'),
        });
      } catch (err) {
        logger.error({ err: { message: (err as Error).message } }, 'scheduler could not LISTEN; polling only');
      }
    }
    loopDone = loop();
  }

  return {
    tick,
    async stop() {
      stopped = true;
      wake();
      await loopDone;
      const l = listener;
      listener = null;
      await l?.close();
    },
  };
}
