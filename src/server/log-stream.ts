import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { TERMINAL_STATUSES, type RunStatus } from '../core/types.ts';
import { runGet, runLogsAfter } from '../db/runs.ts';
import type { AppDeps } from './deps.ts';
import { errorResponseParts } from './errors.ts';

// GET /api/v1/runs/:id/logs/stream — Server-Sent Events:
//   (default event) one per log line, `id:` = the line's seq, data = the line as JSON
//   event: status    when the run's status changes (no id, so resuming stays keyed on seq)
//   event: end       once, when the run is finished: { status, exit_code, error }
//   event: error     a server-side failure, in the API's error shape; the stream then ends
// A client resumes with `Last-Event-ID` (or `?after=`) and gets only the lines after it.

const PAGE = 1000;
/** How long a stream sleeps without a notification before it looks anyway. */
export const SAFETY_POLL_MS = 3000;
/** Lines arriving in a burst go out together instead of one round trip per notification. */
const COALESCE_MS = 20;
/** A comment line now and then keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

export interface LogStreamRequest {
  projectId: string;
  runId: number;
  afterSeq: number;
}

export function logStreamResponse(c: Context, deps: AppDeps, req: LogStreamRequest): Response {
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (stream) => {
    const watch = deps.feed.watch(req.runId);
    stream.onAbort(() => watch.close());
    try {
      await pump(stream, deps, req, watch);
    } catch (err) {
      const { body, error } = errorResponseParts(err);
      deps.logger.error({ err: error.cause ?? error, runId: req.runId }, 'log stream failed');
      await stream.writeSSE({ event: 'error', data: JSON.stringify(body) });
    } finally {
      watch.close();
    }
  });
}

async function pump(
  stream: SSEStreamingApi,
  { pool }: AppDeps,
  req: LogStreamRequest,
  watch: ReturnType<AppDeps['feed']['watch']>,
): Promise<void> {
  let after = req.afterSeq;
  let lastStatus: RunStatus | null = null;
  let lastWriteAt = Date.now();

  while (!watch.closed && !stream.aborted) {
    // Status first, then logs: a worker stores a run's lines before it completes the run, so
    // once we have seen a final status, the read that follows holds every line there is.
    const run = await runGet(pool, req.projectId, req.runId);
    if (!run) return;
    for (;;) {
      const lines = await runLogsAfter(pool, req.runId, after, PAGE);
      for (const line of lines) {
        await stream.writeSSE({ id: String(line.seq), data: JSON.stringify(line) });
        after = line.seq;
      }
      if (lines.length > 0) lastWriteAt = Date.now();
      if (lines.length < PAGE) break;
    }
    if (run.status !== lastStatus) {
      lastStatus = run.status;
      await stream.writeSSE({ event: 'status', data: JSON.stringify({ status: run.status, attempt: run.attempt }) });
      lastWriteAt = Date.now();
    }
    if (TERMINAL_STATUSES.includes(run.status)) {
      await stream.writeSSE({
        event: 'end',
        data: JSON.stringify({ status: run.status, exit_code: run.exit_code, error: run.error }),
      });
      return;
    }
    if (Date.now() - lastWriteAt >= KEEPALIVE_MS) {
      await stream.write(': keepalive\n\n');
      lastWriteAt = Date.now();
    }
    await watch.wait(SAFETY_POLL_MS);
    await new Promise((r) => setTimeout(r, COALESCE_MS));
  }
}
