import type { Logger } from 'pino';
import { listen, type Listener } from '../queue/listener.ts';

// Wakes log streams when their run changes. One LISTEN connection per server process serves
// every SSE client: `hostrun_logs` carries the ids of runs whose logs grew, `hostrun_events`
// says some run changed status (no payload, so every watcher re-checks). Notifications only
// wake; the stream itself reads what changed from the tables, so a lost notification costs
// latency (the watcher's safety timeout), never data.

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
// change (hostrun_events) wakes everyone, a log line only the watchers of its run.
const EVENTS_KEY = 0;

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
    channels: ['hostrun_logs', 'hostrun_events'],
    onNotify: (channel, payload) => {
      if (channel === 'hostrun_events' || payload.length >= TRUNCATED_PAYLOAD_LENGTH) {
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
  return {
    watch: (runId) => watchers.add(runId),
    watchEvents: () => watchers.add(EVENTS_KEY),
    async close() {
      watchers.closeAll();
      await listener.close();
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
