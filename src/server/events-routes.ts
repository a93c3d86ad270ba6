import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { EventWatermark, eventsLastId, projectEventsBetween } from '../db/project-events.ts';
import type { AppDeps } from './deps.ts';
import { errorResponseParts } from './errors.ts';
import { SAFETY_POLL_MS } from './log-stream.ts';
import { Routes } from './operations.ts';
import { parseQuery, parseWith, seqParam } from './validation.ts';

// GET /api/v1/events — Server-Sent Events of the project's run status changes:
//   event: run     id: <run_events id>, data: { id, run_id, job_name, attempt, from_status, to_status, worker_id, at, message }
//   event: error   a server-side failure in the API's error shape; the stream then ends
// Woken by the server's run feed (it watches the run_events sequence while streams are open). A client that
// reconnects with Last-Event-ID (or ?after=) gets every event after that one and no other;
// without either, the stream starts from now.

const EventsQuery = z.strictObject({ after: seqParam.optional() });

const PAGE = 500;
const WINDOW = 20_000;
/** While some transaction that may still add events is open, look again soon. */
const PENDING_POLL_MS = 50;
const KEEPALIVE_MS = 15_000;

export function eventsRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  r.get('/events', { tag: 'events', access: 'viewer', summary: "Live run status changes of the project (SSE, resumable with Last-Event-ID)", query: EventsQuery, produces: 'text/event-stream' }, async (c) => {
    const { projectId } = c.get('principal');
    const q = parseQuery(c, EventsQuery);
    const lastEventId = c.req.header('last-event-id');
    const after = lastEventId !== undefined ? parseWith(seqParam, lastEventId, 'Last-Event-ID header') : (q.after ?? (await eventsLastId(deps.pool)));
    return projectEventStream(c, deps, projectId, after);
  });
  return r;
}

function projectEventStream(c: Context, deps: AppDeps, projectId: string, afterId: number): Response {
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (stream) => {
    const watch = deps.feed.watchEvents();
    stream.onAbort(() => watch.close());
    const watermark = new EventWatermark(afterId);
    let cursor = afterId;
    let lastWriteAt = Date.now();
    try {
      while (!watch.closed && !stream.aborted) {
        const pending = await watermark.advance(deps.pool);
        // Events are found by id range (a BRIN index over all projects' events), so each query
        // looks at WINDOW ids at most: a stream resumed from long ago catches up window by window.
        while (cursor < watermark.settledId) {
          const upTo = Math.min(watermark.settledId, cursor + WINDOW);
          const events = await projectEventsBetween(deps.pool, projectId, cursor, upTo, PAGE);
          for (const event of events) {
            await stream.writeSSE({ event: 'run', id: String(event.id), data: JSON.stringify(event) });
          }
          if (events.length > 0) lastWriteAt = Date.now();
          cursor = events.length < PAGE ? upTo : events.at(-1)!.id;
        }
        if (Date.now() - lastWriteAt >= KEEPALIVE_MS) {
          await stream.write(': keepalive\n\n');
          lastWriteAt = Date.now();
        }
        await watch.wait(pending ? PENDING_POLL_MS : SAFETY_POLL_MS);
      }
    } catch (err) {
      const { body, error } = errorResponseParts(err);
      deps.logger.error({ err: error.cause ?? error, projectId }, 'event stream failed');
      await stream.writeSSE({ event: 'error', data: JSON.stringify(body) });
    } finally {
      watch.close();
    }
  });
}
