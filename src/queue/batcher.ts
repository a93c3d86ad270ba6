// Collects items from many concurrent callers and writes them with one statement. At most one
// flush is in flight: items arriving meanwhile wait and go together in the next one, so the
// batch size grows with load by itself (no timer to tune) and one run alone pays no delay
// beyond the next turn of the event loop.

export interface BatcherOptions<T, R> {
  maxBatch: number;
  flush: (items: T[]) => Promise<R[]>;
}

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export class Batcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private inFlight: Promise<void> | null = null;
  private scheduled = false;

  constructor(private readonly options: BatcherOptions<T, R>) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Takes back the first waiting item that `match` picks, before its flush begins: it is not
   * written, and its add() resolves with `result`. Undefined when none is waiting.
   */
  withdraw(match: (item: T) => boolean, result: R): T | undefined {
    const i = this.queue.findIndex((p) => match(p.item));
    if (i === -1) return undefined;
    const [taken] = this.queue.splice(i, 1);
    taken!.resolve(result);
    return taken!.item;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when everything added so far has been flushed. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight || this.scheduled) {
      if (this.inFlight) await this.inFlight;
      else await new Promise((r) => setImmediate(r));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run();
    });
  }

  private run(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.inFlight = this.options
      .flush(batch.map((p) => p.item))
      .then(
        (results) => batch.forEach((p, i) => p.resolve(results[i] as R)),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      )
      .finally(() => {
        this.inFlight = null;
        if (this.queue.length > 0) this.run();
      });
  }
}
