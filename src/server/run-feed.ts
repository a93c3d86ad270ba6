import type { Logger } from 'pino';
import { createPool } from '../db/pool.ts';
import { eventsLastId } from '../db/project-events.ts';
import { listen, type Listener } from '../queue/listener.ts';

// Wakes log streams when their run changes. One LISTEN connection per server process serves
// every SSE client: `hostrun_logs` carries the ids of runs whose logs grew. Status changes
// are not notified (a NOTIFY would serialise every commit of the queue: see
// migrations/0007_quiet_transitions.sql); while anyone watches, the feed reads the run_events
// sequence every EVENTS_POLL_MS and wakes every watcher when it moved. Wakes only wake; the
// stream itself reads what changed from the tables, so a lost wake costs latency (the
// watcher's safety timeout), never data.

export interface RunWatch {
  /** Resolves on the next change of the run, after `ms` at the latest, or at once if one is pending. */
  wait(ms: number): Promise<void>;
  /** True once the feed closed (server shutting down): the stream should end. */
  readonly closed: boolean;
  close(): void;
}

export interface RunFeed {
  watch(runId: number): RunWatch;
  /** Wakes on any run's status change (project event streams). */
  watchEvents(): RunWatch;
  close(): Promise<void>;
}

// Run ids start at 1, so key 0 holds the watchers of status changes in general: a status
// change wakes everyone, a log line only the watchers of its run.
const EVENTS_KEY = 0;

/** How soon a status change reaches open streams: one read of a sequence per tick, only while watched. */
export const EVENTS_POLL_MS = 100;

// pg_notify payloads are capped (8000 bytes); append_run_logs cuts its id list at 7900
// characters, so a payload this long may end in a partial id and is treated as "everyone".
const TRUNCATED_PAYLOAD_LENGTH = 7900;

class Watch implements RunWatch {
  private pending = false;
  private wake: (() => void) | null = null;
  closed = false;

  constructor(
    readonly runId: number,
    private readonly onClose: (w: Watch) => void,
  ) {}

  notify(): void {
    if (this.wake) {
      const wake = this.wake;
      this.wake = null;
      wake();
    } else {
      this.pending = true;
    }
  }

  wait(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    this.notify();
  }
}

class Watchers {
  private readonly byRun = new Map<number, Set<Watch>>();

  get size(): number {
    return this.byRun.size;
  }

  add(runId: number): Watch {
    const w = new Watch(runId, (closed) => this.remove(closed));
    let set = this.byRun.get(runId);
    if (!set) this.byRun.set(runId, (set = new Set()));
    set.add(w);
    return w;
  }

  private remove(w: Watch): void {
    const set = this.byRun.get(w.runId);
    set?.delete(w);
    if (set?.size === 0) this.byRun.delete(w.runId);
  }

  notifyRun(runId: number): void {
    for (const w of this.byRun.get(runId) ?? []) w.notify();
  }

  notifyAll(): void {
    for (const set of this.byRun.values()) for (const w of set) w.notify();
  }

  closeAll(): void {
    for (const set of [...this.byRun.values()]) for (const w of [...set]) w.close();
  }
}

/** The feed of a server process: one listening connection, shared by every stream. */
export async function startRunFeed(options: { databaseUrl: string; logger: Logger }): Promise<RunFeed> {
  const watchers = new Watchers();
  const listener: Listener = await listen({
    url: options.databaseUrl,
    channels: ['hostrun_logs'],
    onNotify: (_channel, payload) => {
      if (payload.length >= TRUNCATED_PAYLOAD_LENGTH) {
        watchers.notifyAll();
        return;
      }
      for (const id of payload.split(',')) {
        const runId = Number(id);
        if (Number.isInteger(runId)) watchers.notifyRun(runId);
      }
    },
    // Whatever happened while the connection was down went unheard: everyone re-checks.
    onReconnect: () => watchers.notifyAll(),
    onError: (err) => options.logger.warn({ err }, 'run feed: listening connection lost; reconnecting'),
  });
  const poller = pollEvents(options.databaseUrl, watchers, options.logger);
  return {
    watch: (runId) => watchers.add(runId),
    watchEvents: () => watchers.add(EVENTS_KEY),
    async close() {
      watchers.closeAll();
      await Promise.all([listener.close(), poller.close()]);
    },
  };
}

/**
 * Wakes every watcher when the run_events sequence moves. Reads nothing while nobody watches.
 * A tick that fails (database away) is skipped: the streams' own safety timeout still runs.
 */
function pollEvents(databaseUrl: string, watchers: Watchers, logger: Logger): { close(): Promise<void> } {
  const pool = createPool(databaseUrl, { max: 1, applicationName: 'hostrun-run-feed' });
  // -1: not read since someone started watching; the first read wakes everyone (a spurious
  // wake costs a re-read; a missed one would cost the safety timeout).
  let last = -1;
  let inFlight: Promise<void> | null = null;
  let failing = false;
  const read = async () => {
    try {
      const id = await eventsLastId(pool);
      failing = false;
      if (id !== last) watchers.notifyAll();
      last = id;
    } catch (err) {
      if (!failing) logger.warn({ err: { message: (err as Error).message } }, 'run feed: cannot read run events; retrying');
      failing = true;
    }
  };
  const timer = setInterval(() => {
    if (watchers.size === 0) last = -1;
    else inFlight ??= read().finally(() => (inFlight = null));
  }, EVENTS_POLL_MS);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await inFlight;
      await pool.end();
    },
  };
}

/** A feed without a listening connection: watchers wake on their safety timeout only. */
export function pollingRunFeed(): RunFeed {
  const watchers = new Watchers();
  return {
    watch: (runId) => watchers.add(runId),
    watchEvents: () => watchers.add(EVENTS_KEY),
    async close() {
      watchers.closeAll();
    },
  };
}
