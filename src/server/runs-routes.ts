import { z } from 'zod';
import { ConflictError, HostrunError, NotFoundError } from '../core/errors.ts';
import type { RunStatus } from '../core/types.ts';
import { jobGetById } from '../db/jobs.ts';
import { runEventsAfter, runGet, runLogsAfter, runLogsSearch, runsListJson, runsListVersions, runStepsList, type RunRow, type RunsListFilter } from '../db/runs.ts';
import type { Pool } from '../db/pool.ts';
import { runCancel } from '../queue/cancel.ts';
import type { AppDeps } from './deps.ts';
import { logDownloadResponse } from './log-download.ts';
import { logStreamResponse } from './log-stream.ts';
import { Routes } from './operations.ts';
import { runCreate } from './run-create.ts';
import { limitParam, parseBody, parseQuery, parseRunId, parseWith, seqParam } from './validation.ts';

// /api/v1/runs: history (newest first, keyset-paginated, filtered by job, status, trigger and
// time), one run with its steps, its logs (paged JSON, a text search, a download, or a live
// SSE stream), its events, cancel, and re-run.

const RUN_STATUSES = ['queued', 'claimed', 'running', 'succeeded', 'failed', 'timed_out', 'canceled'] as const;
const RUN_TRIGGERS = ['manual', 'schedule', 'webhook', 'api', 'retry', 'rerun'] as const;

const timeParam = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

const RunsQuery = z.strictObject({
  job: z.string().min(1).optional(),
  /** One status or several, comma-separated: `?status=failed,timed_out`. */
  status: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(RUN_STATUSES)))
    .optional(),
  trigger: z.enum(RUN_TRIGGERS).optional(),
  /** Runs created at or after this time (ISO 8601). */
  since: timeParam.optional(),
  /** Runs created before this time (ISO 8601). */
  until: timeParam.optional(),
  limit: limitParam(500, 50),
  cursor: z.string().optional(),
});

const LogsQuery = z.strictObject({
  after: seqParam.default(0),
  limit: limitParam(5000, 1000),
  /** Only rows whose text contains this (case-insensitive). */
  q: z.string().min(1).max(200).optional(),
});
const EventsQuery = z.strictObject({ after: seqParam.default(0), limit: limitParam(5000, 1000) });
const StreamQuery = z.strictObject({ after: seqParam.optional() });

const RerunBody = z.strictObject({
  /** Overrides on top of the original run's inputs; `{}` or nothing re-runs with the same inputs. */
  inputs: z.record(z.string(), z.unknown()).optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
});

// The cursor is opaque to clients so the ordering key can change without breaking them; today
// it is the last id of the previous page.
export function cursorEncode(beforeId: number): string {
  return Buffer.from(`runs:${beforeId}`).toString('base64url');
}

export function cursorDecode(cursor: string): number {
  const match = /^runs:([1-9][0-9]{0,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new HostrunError('invalid_request', 'invalid cursor', { details: [{ path: 'cursor', message: 'not a cursor this server issued' }] });
  return Number(match[1]);
}

// The answers to recent list requests, each with the row versions it was built from. A
// dashboard (or a script) asking for the same page again and again mostly gets the same runs
// back: asking Postgres whether any of them changed (runsListVersions) costs a fraction of
// building the page, so an unchanged page is answered with the bytes built last time. The key
// holds the project and every parameter, so a page is only ever served to the request that
// built it. Bounded in bytes; an entry lives a minute at most, far from the 2^32 transactions
// after which a row version's number could come round again.
//
// When a page has changed, the requests that find so at the same moment share one build, but
// only one that began after they arrived: its snapshot then holds every change committed
// before they were asked, as their own query's would. (Without sharing, with runs finishing 20
// times a second, every request in flight found the change and built the page itself.)
const PAGE_CACHE_BYTES = 16 * 1024 * 1024;
const PAGE_CACHE_MS = 60_000;

interface CachedPage {
  versions: string;
  body: Uint8Array<ArrayBuffer>;
  until: number;
}

interface Build {
  /** performance.now() when it was asked for, before its query was sent. */
  startedAt: number;
  body: Promise<Uint8Array<ArrayBuffer>>;
}

export class RunsPageCache {
  private readonly pages = new Map<string, CachedPage>();
  private readonly builds = new Map<string, Build>();
  private bytes = 0;

  /**
   * The page of `key` for a request that arrived at `arrivedAt` (performance.now()): the
   * cached bytes if `versions` says they are still right, else the bytes of a build that began
   * after the request arrived, its own or one under way.
   */
  async page(
    key: string,
    arrivedAt: number,
    versions: () => Promise<string | null>,
    build: () => Promise<{ versions: string | null; body: Uint8Array<ArrayBuffer> }>,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const cached = this.get(key);
    if (cached && (await versions()) === cached.versions) return cached.body;
    const shared = this.builds.get(key);
    if (shared && shared.startedAt >= arrivedAt) return shared.body;
    const own: Build = {
      startedAt: performance.now(),
      body: build().then((page) => {
        if (page.versions !== null) this.set(key, page.versions, page.body);
        return page.body;
      }),
    };
    this.builds.set(key, own);
    try {
      return await own.body;
    } finally {
      if (this.builds.get(key) === own) this.builds.delete(key);
    }
  }

  private get(key: string, now = Date.now()): CachedPage | null {
    const page = this.pages.get(key);
    if (page && page.until > now) return page;
    if (page) this.delete(key, page);
    return null;
  }

  private set(key: string, versions: string, body: Uint8Array<ArrayBuffer>, now = Date.now()): void {
    const old = this.pages.get(key);
    if (old) this.delete(key, old);
    const size = body.byteLength + versions.length + key.length;
    if (size > PAGE_CACHE_BYTES / 4) return;
    // Maps keep insertion order: the oldest entries make room.
    for (const [k, page] of this.pages) {
      if (this.bytes + size <= PAGE_CACHE_BYTES) break;
      this.delete(k, page);
    }
    this.pages.set(key, { versions, body, until: now + PAGE_CACHE_MS });
    this.bytes += size;
  }

  private delete(key: string, page: CachedPage): void {
    this.pages.delete(key);
    this.bytes -= page.body.byteLength + page.versions.length + key.length;
  }
}

async function runsListBody(pool: Pool, pages: RunsPageCache, filter: RunsListFilter, arrivedAt: number): Promise<Uint8Array<ArrayBuffer>> {
  return pages.page(
    JSON.stringify(filter),
    arrivedAt,
    () => runsListVersions(pool, filter),
    async () => {
      const page = await runsListJson(pool, filter);
      // The runs arrive as JSON text (runsListJson): spliced in, not parsed and serialized again.
      const nextCursor = page.nextBeforeId === null ? null : cursorEncode(page.nextBeforeId);
      const body = new Uint8Array(Buffer.from(`{"runs":${page.json},"next_cursor":${JSON.stringify(nextCursor)}}`));
      return { versions: page.versions, body };
    },
  );
}

export async function runOr404(pool: Pool, projectId: string, rawId: string): Promise<RunRow> {
  const run = await runGet(pool, projectId, parseRunId(rawId));
  if (!run) throw new NotFoundError(`run ${rawId}`);
  return run;
}


export function runsRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool } = deps;
  const tag = 'runs';
  const pages = new RunsPageCache();

  r.get('/runs', { tag, access: 'viewer', summary: 'List runs, newest first', query: RunsQuery }, async (c) => {
    const arrivedAt = performance.now();
    const q = parseQuery(c, RunsQuery);
    const filter: RunsListFilter = {
      projectId: c.get('principal').projectId,
      limit: q.limit,
      ...(q.job ? { jobName: q.job } : {}),
      ...(q.status ? { statuses: q.status as RunStatus[] } : {}),
      ...(q.trigger ? { trigger: q.trigger } : {}),
      ...(q.cursor ? { beforeId: cursorDecode(q.cursor) } : {}),
      ...(q.since ? { createdAfter: q.since } : {}),
      ...(q.until ? { createdBefore: q.until } : {}),
    };
    return c.body(await runsListBody(pool, pages, filter, arrivedAt), 200, { 'content-type': 'application/json' });
  });

  r.get('/runs/:id', { tag, access: 'viewer', summary: 'One run with its steps' }, async (c) => {
    const run = await runOr404(pool, c.get('principal').projectId, c.req.param('id'));
    return c.json({ ...run, steps: await runStepsList(pool, run.id) });
  });

  r.get('/runs/:id/steps', { tag, access: 'viewer', summary: "A run's steps" }, async (c) => {
    const run = await runOr404(pool, c.get('principal').projectId, c.req.param('id'));
    return c.json({ run_id: run.id, steps: await runStepsList(pool, run.id) });
  });

  r.get('/runs/:id/logs', { tag, access: 'viewer', summary: "A run's log lines, paged; ?q= searches them", query: LogsQuery }, async (c) => {
    const run = await runOr404(pool, c.get('principal').projectId, c.req.param('id'));
    const q = parseQuery(c, LogsQuery);
    const lines = q.q === undefined ? await runLogsAfter(pool, run.id, q.after, q.limit) : await runLogsSearch(pool, run.id, q.q, q.after, q.limit);
    // `status` lets a client paging without the stream know when there is nothing more to wait for.
    return c.json({ run_id: run.id, status: run.status, lines, next_after: lines.at(-1)?.seq ?? q.after });
  });

  r.get('/runs/:id/logs/download', { tag, access: 'viewer', summary: "A run's whole log as a text file", produces: 'text/plain' }, async (c) => {
    const run = await runOr404(pool, c.get('principal').projectId, c.req.param('id'));
    return logDownloadResponse(pool, run.id);
  });

  r.get('/runs/:id/logs/stream', { tag, access: 'viewer', summary: "A run's log as Server-Sent Events (resumable with Last-Event-ID)", query: StreamQuery, produces: 'text/event-stream' }, async (c) => {
    const { projectId } = c.get('principal');
    const run = await runOr404(pool, projectId, c.req.param('id'));
    const q = parseQuery(c, StreamQuery);
    const lastEventId = c.req.header('last-event-id');
    // Last-Event-ID is what a reconnecting EventSource sends; it wins over the original ?after=.
    const afterSeq = lastEventId !== undefined ? parseWith(seqParam, lastEventId, 'Last-Event-ID header') : (q.after ?? 0);
    return logStreamResponse(c, deps, { projectId, runId: run.id, afterSeq });
  });

  r.get('/runs/:id/events', { tag, access: 'viewer', summary: "A run's status transitions", query: EventsQuery }, async (c) => {
    const run = await runOr404(pool, c.get('principal').projectId, c.req.param('id'));
    const q = parseQuery(c, EventsQuery);
    return c.json({ run_id: run.id, events: await runEventsAfter(pool, run.id, q.after, q.limit) });
  });

  r.post('/runs/:id/cancel', { tag, access: 'developer', does: 'cancel runs', audit: 'run.cancel', summary: 'Cancel a run' }, async (c) => {
    const { projectId } = c.get('principal');
    const run = await runOr404(pool, projectId, c.req.param('id'));
    const status = await runCancel(pool, run.id, 'canceled via API');
    if (status === null) {
      const now = await runGet(pool, projectId, run.id);
      throw new ConflictError(`run ${run.id} already finished (${now?.status ?? run.status})`);
    }
    // A queued run is canceled now; a claimed or running one when its worker stops it.
    const after = await runGet(pool, projectId, run.id);
    return c.json(after ?? run);
  });

  r.post('/runs/:id/rerun', { tag, access: 'developer', does: 'run jobs', audit: 'run.rerun', summary: "Run a run's job again, with the same inputs or some changed", body: RerunBody }, async (c) => {
    const principal = c.get('principal');
    const original = await runOr404(pool, principal.projectId, c.req.param('id'));
    const body = await parseBody(c, RerunBody);
    const job = original.job_id ? await jobGetById(pool, principal.projectId, original.job_id) : null;
    if (!job) throw new ConflictError(`the job of run ${original.id} ("${original.job_name}") was deleted`);
    const run = await runCreate(pool, {
      projectId: principal.projectId,
      job,
      inputs: { ...original.inputs, ...body.inputs },
      trigger: 'rerun',
      parentRunId: original.id,
      createdBy: principal.userId,
      ...(body.priority === undefined ? {} : { priority: body.priority }),
    });
    c.set('audit', { resourceType: 'run', resourceId: String(run.id), details: { rerun_of: original.id } });
    return c.json(run, 201);
  });

  return r;
}
