import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tokenCreate } from '../../src/db/tokens.ts';
import { projectIdBySlug } from '../../src/db/projects.ts';
import { createApp } from '../../src/server/app.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';

// The HTTP API in process (app.request), against a real, migrated Postgres. No worker runs
// here, so runs stay queued unless a test moves them.

const HELLO = readFileSync(new URL('./fixtures/hello.yaml', import.meta.url), 'utf8');
const STRICT = `name: strict
inputs:
  ip:
    required: true
    pattern: '^[0-9.]+$'
steps:
  - run: echo "\${{ inputs.ip }}"
`;

let db: TestDatabase;
let app: ReturnType<typeof createApp>;
let token: string;

// Response bodies are checked field by field below; a loose type keeps that readable.
type Json = Record<string, any>;

async function call(method: string, path: string, body?: unknown, options: { token?: string | null; raw?: string } = {}) {
  const bearer = options.token === undefined ? token : options.token;
  const res = await app.request(path, {
    method,
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.raw !== undefined ? { body: options.raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as Json };
}

async function countRuns(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM hostrun.runs');
  return rows[0]!.n;
}

function expectErrorShape(body: Json, code: string): void {
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toEqual({ code, message: expect.any(String), details: expect.any(Array) });
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at /); // never a stack trace
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = createApp({ pool: db.pool });
  ({ token } = await tokenCreate(db.pool, { name: 'test admin', isSuperadmin: true }));
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

describe('health', () => {
  it('answers /healthz and /readyz without a token', async () => {
    expect(await call('GET', '/healthz', undefined, { token: null })).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await call('GET', '/readyz', undefined, { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
  });
});

describe('auth', () => {
  it('refuses a missing or wrong token with 401 in the error shape', async () => {
    const missing = await call('GET', '/api/v1/jobs', undefined, { token: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expectErrorShape(missing.body, 'unauthorized');

    const wrong = await call('GET', '/api/v1/jobs', undefined, { token: 'hr_not-a-real-token' });
    expect(wrong.status).toBe(401);
    expectErrorShape(wrong.body, 'unauthorized');

    const seed = await call('POST', '/api/run', { config_id: 'x' }, { token: null });
    expect(seed.status).toBe(401);
  });

  it('lets a viewer token read but not write', async () => {
    const projectId = (await projectIdBySlug(db.pool, 'default'))!;
    const viewer = await tokenCreate(db.pool, { name: 'viewer', projectId, role: 'viewer' });
    expect((await call('GET', '/api/v1/jobs', undefined, { token: viewer.token })).status).toBe(200);
    const write = await call('POST', '/api/v1/jobs', { source: HELLO }, { token: viewer.token });
    expect(write.status).toBe(403);
    expectErrorShape(write.body, 'forbidden');
  });

  it('records token use, at most once a minute', async () => {
    await call('GET', '/api/v1/jobs');
    const first = await db.pool.query('SELECT last_used_at FROM hostrun.api_tokens WHERE name = $1', ['test admin']);
    // The touch is fire-and-forget; give it a moment to land.
    for (let i = 0; i < 50 && !first.rows[0]?.last_used_at; i++) {
      await new Promise((r) => setTimeout(r, 20));
      first.rows = (await db.pool.query('SELECT last_used_at FROM hostrun.api_tokens WHERE name = $1', ['test admin'])).rows;
    }
    expect(first.rows[0].last_used_at).toBeInstanceOf(Date);
    await call('GET', '/api/v1/jobs');
    const second = await db.pool.query('SELECT last_used_at FROM hostrun.api_tokens WHERE name = $1', ['test admin']);
    expect(second.rows[0].last_used_at).toEqual(first.rows[0].last_used_at);
  });
});

describe('jobs', () => {
  it('applies the hello spec, and writes a new version only when the spec changed', async () => {
    const created = await call('POST', '/api/v1/jobs', { source: HELLO, format: 'yaml' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ created: true, changed: true, job: { name: 'hello', version: 1, enabled: true } });

    const same = await call('POST', '/api/v1/jobs', { source: HELLO });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ created: false, changed: false, job: { version: 1 } });

    const edited = HELLO.replace('Greets someone', 'Greets anyone');
    const changed = await call('POST', '/api/v1/jobs', { source: edited });
    expect(changed.body).toMatchObject({ created: false, changed: true, job: { version: 2, description: expect.stringContaining('Greets anyone') } });

    const versions = await db.pool.query('SELECT version FROM hostrun.job_versions WHERE job_id = $1 ORDER BY version', [created.body.job.id]);
    expect(versions.rows.map((r) => r.version)).toEqual([1, 2]);
    // Back to the original text: a change again, version 3.
    expect((await call('POST', '/api/v1/jobs', { source: HELLO })).body.job.version).toBe(3);
  });

  it('accepts a spec as a JSON object', async () => {
    const res = await call('POST', '/api/v1/jobs', { name: 'json-job', steps: [{ run: 'echo hi' }] });
    expect(res.status).toBe(201);
    expect(res.body.job).toMatchObject({ name: 'json-job', version: 1 });
  });

  it('lists and shows jobs', async () => {
    const list = await call('GET', '/api/v1/jobs');
    expect(list.status).toBe(200);
    const hello = list.body.jobs.find((j: Json) => j.name === 'hello');
    expect(hello).toMatchObject({ name: 'hello', version: 3, enabled: true, next_fire_at: null });

    const show = await call('GET', '/api/v1/jobs/hello');
    expect(show.status).toBe(200);
    expect(show.body).toMatchObject({ name: 'hello', source: HELLO, schedules: [] });
    expect(show.body.spec.steps).toHaveLength(2);
  });

  it('answers an unknown job with 404 in the error shape', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/jobs/nope'],
      ['DELETE', '/api/v1/jobs/nope'],
      ['POST', '/api/v1/jobs/nope/runs'],
      ['POST', '/api/v1/jobs/nope/disable'],
    ] as const) {
      const res = await call(method, path, method === 'POST' ? {} : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
      expectErrorShape(res.body, 'not_found');
      expect(res.body.error.message).toContain('nope');
    }
  });

  it('rejects invalid YAML with line and column', async () => {
    const res = await call('POST', '/api/v1/jobs', { source: 'name: bad\nsteps:\n  - run: [unclosed\n' });
    expect(res.status).toBe(400);
    expectErrorShape(res.body, 'invalid_spec');
    expect(res.body.error.details[0]).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
  });

  it('rejects unknown body keys and bad JSON with 400', async () => {
    const extra = await call('POST', '/api/v1/jobs', { source: HELLO, bogus: true });
    expect(extra.status).toBe(400);
    expectErrorShape(extra.body, 'invalid_request');
    expect(extra.body.error.details[0].message).toMatch(/bogus/);

    const runExtra = await call('POST', '/api/v1/jobs/hello/runs', { inputs: {}, colour: 'blue' });
    expect(runExtra.status).toBe(400);
    expectErrorShape(runExtra.body, 'invalid_request');

    const badJson = await call('POST', '/api/v1/jobs', undefined, { raw: '{"source": ' });
    expect(badJson.status).toBe(400);
    expectErrorShape(badJson.body, 'invalid_request');
  });

  it('refuses a body over 1 MiB', async () => {
    const res = await call('POST', '/api/v1/jobs', { source: 'x'.repeat(1024 * 1024 + 1) });
    expect(res.status).toBe(400);
    expectErrorShape(res.body, 'invalid_request');
    expect(res.body.error.message).toMatch(/larger than/);
  });

  it('answers an unknown route with 404 in the error shape', async () => {
    const res = await call('GET', '/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expectErrorShape(res.body, 'not_found');
  });
});

describe('runs', () => {
  it('creates a run with inputs', async () => {
    const res = await call('POST', '/api/v1/jobs/hello/runs', { inputs: { name: 'Ada' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ job_name: 'hello', job_version: 3, status: 'queued', trigger: 'api', inputs: { name: 'Ada' } });

    const defaults = await call('POST', '/api/v1/jobs/hello/runs', { trigger: 'manual' });
    expect(defaults.body).toMatchObject({ trigger: 'manual', inputs: { name: 'world' } });
  });

  it('rejects invalid input with 400 and details, and creates no run', async () => {
    expect((await call('POST', '/api/v1/jobs', { source: STRICT })).status).toBe(201);
    const before = await countRuns();
    const bad = await call('POST', '/api/v1/jobs/strict/runs', { inputs: { ip: '1.2.3.4; rm -rf ~' } });
    expect(bad.status).toBe(400);
    expectErrorShape(bad.body, 'invalid_input');
    expect(bad.body.error.details.length).toBeGreaterThan(0);
    expect(bad.body.error.details[0].path).toContain('ip');

    const unknown = await call('POST', '/api/v1/jobs/hello/runs', { inputs: { nmae: 'typo' } });
    expect(unknown.status).toBe(400);
    expectErrorShape(unknown.body, 'invalid_input');
    expect(await countRuns()).toBe(before);

    expect((await call('POST', '/api/v1/jobs/strict/runs', { inputs: { ip: '10.0.0.1' } })).status).toBe(201);
  });

  it('pages through runs newest first with an opaque cursor', async () => {
    const created: number[] = [];
    for (let i = 0; i < 5; i++) created.push((await call('POST', '/api/v1/jobs/json-job/runs', {})).body.id);

    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/api/v1/runs?job=json-job&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call('GET', q);
      expect(page.status).toBe(200);
      expect(page.body.runs.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.runs.map((r: Json) => r.id));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());

    const bad = await call('GET', '/api/v1/runs?cursor=garbage');
    expect(bad.status).toBe(400);
    expectErrorShape(bad.body, 'invalid_request');
    expect((await call('GET', '/api/v1/runs?limt=2')).status).toBe(400);
    expect((await call('GET', '/api/v1/runs?status=bogus')).status).toBe(400);
  });

  it('filters runs by status and trigger', async () => {
    const all = await call('GET', '/api/v1/runs?limit=500');
    const queued = await call('GET', '/api/v1/runs?status=queued,canceled&limit=500');
    expect(queued.body.runs.length).toBe(all.body.runs.length);
    const manual = await call('GET', '/api/v1/runs?trigger=manual');
    expect(manual.body.runs.map((r: Json) => r.trigger)).toEqual(['manual']);
  });

  it('shows a run with its steps, and 404s an unknown one', async () => {
    const run = (await call('POST', '/api/v1/jobs/hello/runs', {})).body;
    const show = await call('GET', `/api/v1/runs/${run.id}`);
    expect(show.status).toBe(200);
    expect(show.body).toMatchObject({ id: run.id, status: 'queued', steps: [] });
    for (const id of ['999999', 'abc', '0']) {
      const res = await call('GET', `/api/v1/runs/${id}`);
      expect(res.status).toBe(404);
      expectErrorShape(res.body, 'not_found');
    }
  });

  it('cancels a queued run at once, and refuses to cancel it twice', async () => {
    const run = (await call('POST', '/api/v1/jobs/hello/runs', {})).body;
    const canceled = await call('POST', `/api/v1/runs/${run.id}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ id: run.id, status: 'canceled' });
    const again = await call('POST', `/api/v1/runs/${run.id}/cancel`);
    expect(again.status).toBe(409);
    expectErrorShape(again.body, 'conflict');
    const events = await call('GET', `/api/v1/runs/${run.id}/events`);
    expect(events.body.events.map((e: Json) => e.to_status)).toEqual(['queued', 'canceled']);
  });

  it('refuses to run a disabled job, and runs it again once enabled', async () => {
    expect((await call('POST', '/api/v1/jobs/json-job/disable')).body.enabled).toBe(false);
    const refused = await call('POST', '/api/v1/jobs/json-job/runs', {});
    expect(refused.status).toBe(409);
    expectErrorShape(refused.body, 'conflict');
    expect((await call('POST', '/api/v1/jobs/json-job/enable')).body.enabled).toBe(true);
    expect((await call('POST', '/api/v1/jobs/json-job/runs', {})).status).toBe(201);
  });

  it('deletes a job, keeping its history and canceling its queued runs', async () => {
    const run = (await call('POST', '/api/v1/jobs/json-job/runs', {})).body;
    expect((await call('DELETE', '/api/v1/jobs/json-job')).status).toBe(200);
    expect((await call('GET', '/api/v1/jobs/json-job')).status).toBe(404);
    const after = await call('GET', `/api/v1/runs/${run.id}`);
    expect(after.body).toMatchObject({ job_name: 'json-job', job_id: null, status: 'canceled' });
    expect((await call('GET', '/api/v1/runs?job=json-job&limit=500')).body.runs.length).toBeGreaterThan(5);
  });
});

describe('seed endpoints', () => {
  function seedConfig(): Json {
    const config = JSON.parse(readFileSync(new URL('./fixtures/seed-config.json', import.meta.url), 'utf8')) as Json;
    // Tests only ever name the loopback: the example's public address must never be contacted.
    config.host = '127.0.0.1';
    return config;
  }

  it('saves the flat config and runs it with input overrides', async () => {
    const config = seedConfig();
    const saved = await call('POST', '/api/save-config', config);
    expect(saved.status).toBe(201);
    expect(saved.body).toEqual({ id: expect.any(String), name: 'Test', version: 1 });

    const again = await call('POST', '/api/save-config', config);
    expect(again.body).toEqual({ id: saved.body.id, name: 'Test', version: 1 });

    const run = await call('POST', '/api/run', { config_id: saved.body.id, input_overrides: { ip: '10.0.0.7' } });
    expect(run.status).toBe(201);
    expect(run.body).toEqual({ run_id: expect.any(Number), status: 'queued' });
    const stored = await call('GET', `/api/v1/runs/${run.body.run_id}`);
    expect(stored.body).toMatchObject({ job_name: 'Test', trigger: 'api', inputs: { ip: '10.0.0.7', filepath: config.inputs.filepath } });

    const schedules = await call('GET', '/api/v1/schedules?job=Test');
    expect(schedules.body.schedules).toHaveLength(1);
    expect(schedules.body.schedules[0]).toMatchObject({ cron: config.schedule, enabled: true });
  });

  it('answers an unknown config with 404 and a bad body with 400', async () => {
    const unknown = await call('POST', '/api/run', { config_id: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(404);
    expectErrorShape(unknown.body, 'not_found');
    expect((await call('POST', '/api/run', { config_id: 'not-a-uuid' })).status).toBe(404);
    const extra = await call('POST', '/api/run', { config_id: 'x', inputs: {} });
    expect(extra.status).toBe(400);
    expectErrorShape(extra.body, 'invalid_request');
  });
});

describe('schedules', () => {
  it('pauses and resumes a schedule', async () => {
    const [schedule] = (await call('GET', '/api/v1/schedules')).body.schedules as Json[];
    const paused = await call('POST', `/api/v1/schedules/${schedule!.id}/disable`);
    expect(paused.body).toMatchObject({ id: schedule!.id, enabled: false, next_fire_at: null });
    const resumed = await call('POST', `/api/v1/schedules/${schedule!.id}/enable`);
    expect(resumed.body).toMatchObject({ enabled: true, next_fire_at: expect.any(String) });
    expect((await call('POST', '/api/v1/schedules/00000000-0000-4000-8000-000000000000/enable')).status).toBe(404);
  });
});
