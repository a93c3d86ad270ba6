import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { parseSse, type SseEvent } from '../../src/cli/api-client.ts';
import { tokenCreate } from '../../src/db/tokens.ts';
import { createApp } from '../../src/server/app.ts';
import { startRunFeed, type RunFeed } from '../../src/server/run-feed.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';

// The SSE log stream, woken by the shared LISTEN connection. The test plays the worker through
// the SQL protocol functions, so it needs no worker and controls every step.

let db: TestDatabase;
let feed: RunFeed;
let app: ReturnType<typeof createApp>;
let token: string;

beforeAll(async () => {
  db = await createTestDatabase();
  feed = await startRunFeed({ databaseUrl: db.url, logger: pino({ level: 'silent' }) });
  app = createApp({ pool: db.pool, feed });
  ({ token } = await tokenCreate(db.pool, { name: 'test', isSuperadmin: true }));
  const job = await app.request('/api/v1/jobs', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'streamed', steps: [{ run: 'echo hi' }] }),
  });
  expect(job.status).toBe(201);
});

afterAll(async () => {
  await feed?.close();
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

async function createRun(): Promise<number> {
  const res = await app.request('/api/v1/jobs/streamed/runs', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ priority: 1000 }),
  });
  return ((await res.json()) as { id: number }).id;
}

async function openStream(runId: number, headers: Record<string, string> = {}, query = ''): Promise<AsyncGenerator<SseEvent>> {
  const res = await app.request(`/api/v1/runs/${runId}/logs/stream${query}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  return parseSse(res.body!.pipeThrough(new TextDecoderStream()));
}

/** Reads events until `until` says stop; fails the test rather than hang. */
async function readUntil(events: AsyncGenerator<SseEvent>, until: (e: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent[]> {
  const seen: SseEvent[] = [];
  const deadline = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`stream stalled; saw ${JSON.stringify(seen)}`)), timeoutMs).unref(),
  );
  for (;;) {
    const next = await Promise.race([events.next(), deadline]);
    if (next.done) return seen;
    seen.push(next.value);
    if (until(next.value)) return seen;
  }
}

const sql = (text: string, params: unknown[]) => db.pool.query(text, params);

describe('GET /api/v1/runs/:id/logs/stream', () => {
  it('streams lines live as they are stored, then ends with the final status', async () => {
    const runId = await createRun();
    const events = await openStream(runId);
    const queued = await readUntil(events, (e) => e.event === 'status');
    expect(JSON.parse(queued.at(-1)!.data)).toMatchObject({ status: 'queued' });

    await sql(`SELECT * FROM hostrun.claim_runs('w-test', '{}', 1)`, []);
    await sql(`SELECT hostrun.start_run('w-test', $1, 1)`, [runId]);
    await sql(`SELECT hostrun.append_run_log($1, 1, 1, 0, 'stdout', 'line one')`, [runId]);
    // Well inside the 3 s safety poll: only the NOTIFY can deliver this in time.
    const started = Date.now();
    const first = await readUntil(events, (e) => e.event === 'message', 2000);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(JSON.parse(first.at(-1)!.data)).toMatchObject({ seq: 1, stream: 'stdout', text: 'line one' });
    expect(first.at(-1)!.id).toBe('1');

    await sql(`SELECT hostrun.append_run_log($1, 1, 2, 0, 'stderr', 'line two')`, [runId]);
    await sql(`SELECT hostrun.complete_run('w-test', $1, 1, 'failed', 7, 'step 1 failed')`, [runId]);
    const rest = await readUntil(events, (e) => e.event === 'end');
    const lines = rest.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data).text);
    expect(lines).toEqual(['line two']);
    expect(JSON.parse(rest.at(-1)!.data)).toEqual({ status: 'failed', exit_code: 7, error: 'step 1 failed' });
    expect((await events.next()).done).toBe(true);
  });

  it('resumes after Last-Event-ID (or ?after=) and ends at once for a finished run', async () => {
    const runId = await createRun();
    await sql(`SELECT * FROM hostrun.claim_runs('w-test', '{}', 1)`, []);
    await sql(`SELECT hostrun.start_run('w-test', $1, 1)`, [runId]);
    for (let seq = 1; seq <= 3; seq++) await sql(`SELECT hostrun.append_run_log($1, 1, $2, 0, 'stdout', $3)`, [runId, seq, `l${seq}`]);
    await sql(`SELECT hostrun.complete_run('w-test', $1, 1, 'succeeded', 0, NULL)`, [runId]);

    const texts = (evs: SseEvent[]) => evs.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data).text);
    expect(texts(await readUntil(await openStream(runId, { 'last-event-id': '1' }), (e) => e.event === 'end'))).toEqual(['l2', 'l3']);
    expect(texts(await readUntil(await openStream(runId, {}, '?after=2'), (e) => e.event === 'end'))).toEqual(['l3']);
    const all = await readUntil(await openStream(runId), (e) => e.event === 'end');
    expect(texts(all)).toEqual(['l1', 'l2', 'l3']);
    expect(JSON.parse(all.at(-1)!.data)).toMatchObject({ status: 'succeeded', exit_code: 0 });
  });

  it('pages logs as JSON with ?after=', async () => {
    const res = await app.request(`/api/v1/runs/1/logs?after=0&limit=1`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { lines: { seq: number }[]; next_after: number; status: string };
    expect(body.lines.map((l) => l.seq)).toEqual([1]);
    expect(body).toMatchObject({ next_after: 1, status: 'failed' });
  });

  it('ends open streams when the feed closes (server shutdown)', async () => {
    const ownFeed = await startRunFeed({ databaseUrl: db.url, logger: pino({ level: 'silent' }) });
    const ownApp = createApp({ pool: db.pool, feed: ownFeed });
    const runId = await createRun();
    const res = await ownApp.request(`/api/v1/runs/${runId}/logs/stream`, { headers: { authorization: `Bearer ${token}` } });
    const events = parseSse(res.body!.pipeThrough(new TextDecoderStream()));
    await readUntil(events, (e) => e.event === 'status');
    await ownFeed.close();
    const rest = await readUntil(events, () => false, 5000);
    expect(rest.filter((e) => e.event === 'end')).toEqual([]);
  });
});
