import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSse } from '../../src/cli/api-client.ts';
import { startRunFeed, type RunFeed } from '../../src/server/run-feed.ts';
import { runCancel } from '../../src/queue/cancel.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { buildWorld, call, type World } from './world.ts';

// Webhook triggers (signatures, replays, the payload on the run) and the project event
// stream (live status changes over SSE, resumed with Last-Event-ID without losing one).

let db: TestDatabase;
let world: World;
let feed: RunFeed;

beforeAll(async () => {
  db = await createTestDatabase();
  feed = await startRunFeed({ databaseUrl: db.url, logger: (await import('pino')).default({ level: 'silent' }) });
  world = await buildWorld(db.pool, { feed });
});

afterAll(async () => {
  await feed?.close();
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('webhooks', () => {
  it('an unsigned webhook runs the job with the body as its trigger payload', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/main', commits: [{ id: 'abc' }] });
    const res = await call(world.app, 'POST', `/api/v1/hooks/${world.webhookId}`, { raw: body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);
    const { rows } = await db.pool.query(`SELECT trigger, trigger_payload, project_id FROM hostrun.runs WHERE id = $1`, [res.body.run_id]);
    expect(rows[0]).toEqual({ trigger: 'webhook', trigger_payload: JSON.parse(body), project_id: world.alpha });
  });

  it('with a secret: good signatures run once; bad, missing and replayed ones are refused', async () => {
    const set = await call(world.app, 'PUT', '/api/v1/jobs/hello/webhook/secret', { token: world.tokens.developer, body: {} });
    expect(set.status).toBe(200);
    const secret = set.body.secret as string;
    expect(secret.length).toBeGreaterThan(30);
    const info = await call(world.app, 'GET', '/api/v1/jobs/hello/webhook', { token: world.tokens.developer });
    expect(info.body).toEqual({ name: 'hello', path: `/api/v1/hooks/${world.webhookId}`, signed: true });

    const url = `/api/v1/hooks/${world.webhookId}`;
    const body = JSON.stringify({ action: 'opened', n: 1 });
    const before = Number((await db.pool.query(`SELECT count(*) AS n FROM hostrun.runs`)).rows[0].n);
    const missing = await call(world.app, 'POST', url, { raw: body, headers: { 'content-type': 'application/json' } });
    expect(missing.status).toBe(401);
    const bad = await call(world.app, 'POST', url, { raw: body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign('wrong secret', body) } });
    expect(bad.status).toBe(401);
    const tampered = await call(world.app, 'POST', url, { raw: body.replace('1', '2'), headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(secret, body) } });
    expect(tampered.status).toBe(401);
    const good = await call(world.app, 'POST', url, { raw: body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(secret, body), 'x-github-delivery': 'd-1' } });
    expect(good.status).toBe(202);
    // The very same request again, and again with another delivery id: both are replays.
    const replay = await call(world.app, 'POST', url, { raw: body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(secret, body), 'x-github-delivery': 'd-1' } });
    expect(replay.status).toBe(409);
    const replay2 = await call(world.app, 'POST', url, { raw: body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(secret, body), 'x-github-delivery': 'd-2' } });
    expect(replay2.status).toBe(409);
    const after = Number((await db.pool.query(`SELECT count(*) AS n FROM hostrun.runs`)).rows[0].n);
    expect(after - before).toBe(1);

    const audit = await db.pool.query(`SELECT actor, resource_id FROM hostrun.audit_log WHERE action = 'webhook.trigger' ORDER BY id DESC LIMIT 1`);
    expect(audit.rows[0]).toEqual({ actor: 'webhook', resource_id: String(good.body.run_id) });
    expect((await call(world.app, 'DELETE', '/api/v1/jobs/hello/webhook/secret', { token: world.tokens.developer })).status).toBe(200);
  });

  it('unknown webhook ids are 404', async () => {
    expect((await call(world.app, 'POST', '/api/v1/hooks/wh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', { raw: '{}' })).status).toBe(404);
  });
});

describe('project event stream', () => {
  async function* events(res: Response) {
    for await (const ev of parseSse(res.body!.pipeThrough(new TextDecoderStream()))) yield ev;
  }

  async function open(lastEventId?: string, token = world.tokens.viewer): Promise<{ res: Response; abort: AbortController }> {
    const abort = new AbortController();
    const res = await world.app.request('/api/v1/events' + (lastEventId === undefined ? '?after=0' : ''), {
      headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: abort.signal,
    });
    return { res, abort };
  }

  it('streams status changes of the project only, and a resumed stream loses none', async () => {
    // Something in beta that alpha's stream must never show.
    const betaJob = await call(world.app, 'POST', '/api/v1/jobs', { token: world.tokens.beta, body: { source: 'name: other\nsteps:\n  - run: "true"\n' } });
    expect(betaJob.status).toBe(201);
    await call(world.app, 'POST', '/api/v1/jobs/other/runs', { token: world.tokens.beta, body: {} });

    const first = await open();
    expect(first.res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const seen: { id: string; run: number; to: string }[] = [];
    const it1 = events(first.res)[Symbol.asyncIterator]();
    const created: number[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await call(world.app, 'POST', '/api/v1/jobs/hello/runs', { token: world.tokens.developer, body: {} });
      created.push(run.body.id);
    }
    // Read until the three new runs have shown up, then drop the connection.
    while (!created.every((id) => seen.some((e) => e.run === id))) {
      const { value } = await it1.next();
      const data = JSON.parse(value!.data);
      seen.push({ id: value!.id!, run: data.run_id, to: data.to_status });
    }
    first.abort.abort();
    const lastId = seen.at(-1)!.id;

    // While nobody listens: the three runs are canceled (three more events).
    for (const id of created) await runCancel(db.pool, id, 'test');

    const second = await open(lastId);
    const it2 = events(second.res)[Symbol.asyncIterator]();
    const resumed: { id: string; run: number; to: string }[] = [];
    while (resumed.length < 3) {
      const { value } = await it2.next();
      const data = JSON.parse(value!.data);
      resumed.push({ id: value!.id!, run: data.run_id, to: data.to_status });
    }
    second.abort.abort();
    expect(resumed.map((e) => `${e.run}:${e.to}`)).toEqual(created.map((id) => `${id}:canceled`));
    expect(Number(resumed[0]!.id)).toBeGreaterThan(Number(lastId));
    // Ids only grow, nothing repeats, and beta's runs never appear.
    const all = [...seen, ...resumed];
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    const { rows } = await db.pool.query(`SELECT id FROM hostrun.runs WHERE project_id = $1`, [world.beta]);
    for (const { id } of rows) expect(all.some((e) => e.run === id)).toBe(false);
  });

  it('a stream resumed from long ago reaches events tens of thousands of ids later', async () => {
    // The stream reads by id in windows of 20,000 (a BRIN index over all projects' events):
    // jump the id sequence over three windows, then make two events of this project.
    const { rows } = await db.pool.query<{ id: number }>(`SELECT last_value AS id FROM hostrun.run_events_id_seq`);
    const from = Number(rows[0]!.id);
    await db.pool.query(`SELECT setval('hostrun.run_events_id_seq', $1)`, [from + 45_000]);
    const run = await call(world.app, 'POST', '/api/v1/jobs/hello/runs', { token: world.tokens.developer, body: {} });
    await runCancel(db.pool, run.body.id, 'test');

    const stream = await open(String(from));
    const it = events(stream.res)[Symbol.asyncIterator]();
    const got: string[] = [];
    while (got.length < 2) {
      const { value } = await it.next();
      const data = JSON.parse(value!.data);
      if (data.run_id === run.body.id) got.push(`${data.from_status}->${data.to_status}@${Number(value!.id) > from + 45_000}`);
    }
    stream.abort.abort();
    expect(got).toEqual(['null->queued@true', 'queued->canceled@true']);
  });

  it('is refused to callers without a role in the project', async () => {
    expect((await call(world.app, 'GET', '/api/v1/events')).status).toBe(401);
  });
});
