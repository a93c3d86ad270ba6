import { StringDecoder } from 'node:string_decoder';
import { withTransaction, type Pool } from '../db/pool.ts';
import { logsAppend, type LogLine } from '../queue/protocol.ts';

// Streams step output into run_logs in batches. A row holds one or more whole lines (text
// joined by \n, no trailing newline) of one stream of one step. Memory stays bounded whatever
// a step prints: output is cut into rows (endless lines into pieces), queued, and written by one flush loop;
// above a high-water mark the producer is paused (backpressure reaches the child's pipe), and
// past a per-run cap the rest is discarded behind one visible truncation line.
//
// A queued row's text is kept as UTF-8 in a slab (a 2 MiB buffer, reused), not as a string:
// at ~100 MB/s of output the strings outlived the young generation while they waited for their
// flush, and the old generation grew by tens of MB between collections (peak RSS 213 MiB for
// 1 GiB of output). In a slab the strings die where they are made, and a flush sends a slice
// of the slab as it is. Two flushes are in flight at once (see writeAfter).

export interface LogWriterOptions {
  /** Stored bytes per run before its output is truncated. */
  maxRunBytes: number;
  /** Queued bytes across runs above which producers are paused. */
  highWaterBytes?: number;
  /** Most characters in one row: whole lines that arrived together share a row up to this. */
  maxRowChars?: number;
  onError?: (err: unknown) => void;
}

type Stream = 'stdout' | 'stderr';

interface QueuedLine extends LogLine {
  slab: Slab;
  /** Where the row's UTF-8 text starts in its slab; `length` bytes long. */
  offset: number;
  ticket: number;
  /** What the row counts for against the high-water mark and a flush's size. */
  bytes: number;
}

/** Rows' texts back to back, in queue order. Reused once every row in it is stored. */
interface Slab {
  buffer: Buffer;
  used: number;
  /** Rows written into it and not yet stored (or given up). */
  pending: number;
}

/** A batch of queued lines, all in one slab, being stored; `stored` never rejects. */
interface Flush {
  lines: QueuedLine[];
  size: number;
  stored: Promise<void>;
}

/** The log of one attempt of one run. */
export class RunLog {
  seq: number;
  bytes = 0;
  truncated = false;
  lastTicket = 0;
  readonly partial = new Map<string, { decoder: StringDecoder; text: string }>();
  /** Applied to every row before it is stored: hides the run's secrets. */
  mask: (text: string) => string = (t) => t;
  /** Length of the longest text `mask` replaces. */
  maskReach = 0;

  constructor(
    readonly runId: number,
    readonly attempt: number,
    lastSeq: number,
  ) {
    this.seq = lastSeq;
  }
}

const MAX_LINES_PER_FLUSH = 5000;
// Every flush ends in a commit that waits for its WAL to reach disk, one after another (see
// writeAfter); under a busy disk that wait was the largest share of a flush (sampled wait
// events), so a flush carries 2 MiB. 1 GiB at 1 / 2 / 4 MiB per flush, alternating on a busy
// machine: 86, 88, 75 / 128, 105, 60 / 87, 76, 68 MiB/s; peak RSS ~150 / ~161 / ~171 MiB.
const MAX_BYTES_PER_FLUSH = 2 * 1024 * 1024;
const SLAB_BYTES = MAX_BYTES_PER_FLUSH;
/**
 * Flushes in flight. One more overlaps the database's work on a flush with the commit of the
 * one before; a flush waiting for its predecessor holds a pool connection meanwhile.
 */
const FLUSHES_IN_FLIGHT = 2;

export class LogWriter {
  private queue: QueuedLine[] = [];
  private queuedBytes = 0;
  private nextTicket = 1;
  private flushedTicket = 0;
  private flushing = false;
  private waiters: { ticket: number; resolve: () => void }[] = [];
  private spaceWaiters: (() => void)[] = [];
  private readonly highWater: number;
  private readonly maxRow: number;
  private slab: Slab = { buffer: Buffer.alloc(0), used: 0, pending: 0 };
  private spareSlabs: Slab[] = [];
  private readonly maxSpareSlabs: number;

  constructor(
    private readonly pool: Pool,
    private readonly options: LogWriterOptions,
  ) {
    // 4 MiB, as before the 2 MiB flushes: 8 MiB was 8–17 % faster on a quiet machine (1 GiB:
    // 282 / 261 against 241 / 238 MiB/s) but grew the 200 MB SSH streaming test's RSS from
    // 110–126 MiB (as the previous writer) to 122–155 MiB, past its 150 MiB bound.
    this.highWater = options.highWaterBytes ?? 4 * 1024 * 1024;
    this.maxRow = options.maxRowChars ?? 64 * 1024;
    // Emptied slabs are kept for reuse, as many as a step printing at full speed cycles through
    // (paused at the high-water mark, resumed at half). Dropping them and allocating new ones
    // left old-generation garbage: 512 MiB of output peaked at 68 MiB of buffers awaiting
    // collection with 2 spares, 41–44 MiB with these (1 MiB slabs; peak RSS 184–190 against 152–161 MiB).
    this.maxSpareSlabs = Math.ceil(this.highWater / SLAB_BYTES) + FLUSHES_IN_FLIGHT;
  }

  /** Adds a chunk of a step's output. Returns a promise when the producer should pause. */
  write(log: RunLog, stepIdx: number | null, stream: Stream, chunk: Buffer): Promise<void> | undefined {
    // Past the cap the pipe is still drained (so the step is not blocked) but nothing is kept.
    if (log.truncated) return undefined;
    const key = `${stepIdx}:${stream}`;
    let p = log.partial.get(key);
    if (!p) {
      p = { decoder: new StringDecoder('utf8'), text: '' };
      log.partial.set(key, p);
    }
    let text = p.text + p.decoder.write(chunk);
    // Whole lines that arrived together become one row (up to maxRowChars): a row per line
    // would cap throughput at the database's row rate, far below what a chatty step prints.
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline !== -1) {
      this.pushBlock(log, stepIdx, stream, text.slice(0, lastNewline));
      text = text.slice(lastNewline + 1);
    }
    // A line that never ends (progress bars, binary) is stored in pieces, keeping memory bounded.
    // Rows are masked whole, so a secret must not straddle a cut: mask the buffer first and keep
    // at least the longest masked form after the cut, so anything that starts before the cut ends
    // inside the buffer (and was masked) — even when it arrived split across two chunks.
    while (text.length > this.maxRow + log.maskReach) {
      text = log.mask(text);
      this.push(log, stepIdx, stream, text.slice(0, this.maxRow));
      text = text.slice(this.maxRow);
    }
    p.text = text;
    return this.queuedBytes > this.highWater ? new Promise((resolve) => this.spaceWaiters.push(resolve)) : undefined;
  }

  /** Cuts a block of whole lines into rows of at most maxRowChars, at line ends where possible. */
  private pushBlock(log: RunLog, stepIdx: number | null, stream: Stream, block: string): void {
    while (block.length > this.maxRow) {
      const cut = block.lastIndexOf('\n', this.maxRow);
      const end = cut > 0 ? cut : this.maxRow;
      this.push(log, stepIdx, stream, block.slice(0, end));
      block = block.slice(cut > 0 ? end + 1 : end);
    }
    this.push(log, stepIdx, stream, block);
  }

  /** Emits what is left of a step's unterminated last lines. */
  endStep(log: RunLog, stepIdx: number | null): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const key = `${stepIdx}:${stream}`;
      const p = log.partial.get(key);
      if (!p) continue;
      const rest = p.text + p.decoder.end();
      if (rest.length > 0) this.push(log, stepIdx, stream, rest);
      log.partial.delete(key);
    }
  }

  /** A line from the worker itself (step headers, errors), shown in the run's log. */
  system(log: RunLog, stepIdx: number | null, text: string): void {
    this.enqueue(log, stepIdx, 'system', text);
  }

  /** Resolves when every line of this run queued so far is stored. */
  async drainRun(log: RunLog): Promise<void> {
    const ticket = log.lastTicket;
    if (ticket <= this.flushedTicket) return;
    await new Promise<void>((resolve) => this.waiters.push({ ticket, resolve }));
  }

  private push(log: RunLog, stepIdx: number | null, stream: Stream, text: string): void {
    if (log.truncated) return;
    const bytes = Buffer.byteLength(text) + 1;
    if (log.bytes + bytes > this.options.maxRunBytes) {
      log.truncated = true;
      const mb = (this.options.maxRunBytes / (1024 * 1024)).toFixed(1);
      this.enqueue(log, stepIdx, 'system', `[hostrun] output truncated: this run reached its log limit of ${mb} MB (HOSTRUN_LOG_MAX_MB); further output was discarded`);
      return;
    }
    log.bytes += bytes;
    this.enqueue(log, stepIdx, stream, text);
  }

  private enqueue(log: RunLog, stepIdx: number | null, stream: LogLine['stream'], raw: string): void {
    // Postgres text cannot hold NUL; show it as the replacement character.
    const text = log.mask(raw.includes('\0') ? raw.replaceAll('\0', '\uFFFD') : raw);
    const length = Buffer.byteLength(text, 'utf8');
    const slab = this.slabFor(length);
    const offset = slab.used;
    slab.buffer.write(text, offset, length, 'utf8');
    slab.used += length;
    slab.pending++;
    const ticket = this.nextTicket++;
    log.lastTicket = ticket;
    const bytes = length + 64;
    this.queue.push({ runId: log.runId, attempt: log.attempt, seq: ++log.seq, stepIdx, stream, at: new Date(), length, slab, offset, ticket, bytes });
    this.queuedBytes += bytes;
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flushLoop());
    }
  }

  /** The slab the next row of `length` bytes goes into. */
  private slabFor(length: number): Slab {
    if (this.slab.used + length <= this.slab.buffer.length) return this.slab;
    const full = this.slab;
    // A row longer than a slab (a large maxRowChars) gets a slab of its own, not kept for reuse.
    const buffer = length > SLAB_BYTES ? Buffer.allocUnsafe(length) : this.spareSlabs.pop()?.buffer ?? Buffer.allocUnsafe(SLAB_BYTES);
    this.slab = { buffer, used: 0, pending: 0 };
    if (full.pending === 0) this.recycle(full);
    return this.slab;
  }

  private recycle(slab: Slab): void {
    if (slab === this.slab || slab.buffer.length !== SLAB_BYTES || this.spareSlabs.length >= this.maxSpareSlabs) return;
    this.spareSlabs.push(slab);
  }

  private async flushLoop(): Promise<void> {
    try {
      const inFlight: Flush[] = [];
      let taken = 0; // lines at the head of the queue that are in a flush already
      while (this.queue.length > 0) {
        while (inFlight.length < FLUSHES_IN_FLIGHT && taken < this.queue.length) {
          const slab = this.queue[taken]!.slab;
          let n = taken;
          let size = 0;
          while (n < this.queue.length && this.queue[n]!.slab === slab && n - taken < MAX_LINES_PER_FLUSH && size < MAX_BYTES_PER_FLUSH) {
            size += this.queue[n++]!.bytes;
          }
          const lines = this.queue.slice(taken, n);
          taken = n;
          const previous = inFlight[inFlight.length - 1]?.stored;
          inFlight.push({ lines, size, stored: previous ? this.writeAfter(lines, previous) : this.writeWithRetry(lines) });
        }
        const oldest = inFlight.shift()!;
        await oldest.stored;
        this.queue.splice(0, oldest.lines.length);
        taken -= oldest.lines.length;
        this.queuedBytes -= oldest.size;
        const slab = oldest.lines[0]!.slab;
        slab.pending -= oldest.lines.length;
        if (slab.pending === 0) this.recycle(slab);
        this.flushedTicket = oldest.lines[oldest.lines.length - 1]!.ticket;
        this.releaseWaiters();
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Writes a flush while the one before it is still being stored, in a transaction that commits
   * only once that one has: a log stream reads `seq > after`, so a later row must never become
   * visible before an earlier one. The insert (and the server's work on it) overlaps the
   * earlier flush's commit, which is where one flush at a time spent much of its time waiting.
   * On any failure it waits for the earlier flush and falls back to writing on its own.
   */
  private async writeAfter(lines: QueuedLine[], previous: Promise<void>): Promise<void> {
    try {
      await withTransaction(this.pool, async (tx) => {
        await logsAppend(tx, lines, texts(lines));
        await previous;
      });
      return;
    } catch (err) {
      this.options.onError?.(err);
    }
    await previous;
    await this.writeWithRetry(lines);
  }

  /** Never rejects: a flush that still fails after its retries is dropped (and reported). */
  private async writeWithRetry(lines: QueuedLine[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await logsAppend(this.pool, lines, texts(lines));
        return;
      } catch (err) {
        this.options.onError?.(err);
        // A database blip should not lose output; a persistent failure must not wedge the worker.
        if (attempt >= 5) return;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  private releaseWaiters(): void {
    this.waiters = this.waiters.filter((w) => {
      if (w.ticket > this.flushedTicket) return true;
      w.resolve();
      return false;
    });
    if (this.queuedBytes <= this.highWater / 2 && this.spaceWaiters.length > 0) {
      const ws = this.spaceWaiters;
      this.spaceWaiters = [];
      ws.forEach((w) => w());
    }
  }
}

/** The texts of a flush's lines, back to back: one slice of their slab. */
function texts(lines: QueuedLine[]): Buffer {
  const first = lines[0]!;
  const last = lines[lines.length - 1]!;
  return first.slab.buffer.subarray(first.offset, last.offset + last.length);
}
