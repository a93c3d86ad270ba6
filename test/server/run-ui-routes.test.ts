import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tokenCreate } from '../../src/db/tokens.ts';
import { createApp } from '../../src/server/app.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';

// What the web UI's run page reads beyond the CLI's needs: the tail of a long log (so the page
// does not read a log from its start to show its end) and the log download with the project in
// the path (a plain link carries the cookie but no project header).

let db: TestDatabase;
let app: ReturnType<typeof createApp>;
let token: string;
let mounted = false;

type Json = Record<string, any>;

async function call(method: string, path: string, opts: { body?: unknown; project?: string } = {}) {
  const res = await app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(opts.project ? { 'x-hostrun-project': opts.project } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // a text download
  }
  return { status: res.status, body: body as Json, headers: res.headers };
}

const sql = (text: string, params: unknown[]) => db.pool.query(text, params);

async function runWithLines(project: string, texts: string[]): Promise<number> {
  const job = await call('POST', '/api/v1/jobs', { project, body: { name: 'tailed', steps: [{ run: 'echo hi' }] } });
  expect(job.status).toBeLessThan(300);
  const run = await call('POST', '/api/v1/jobs/tailed/runs', { project, body: {} });
  expect(run.status).toBe(201);
  const id = run.body.id as number;
  await sql(`SELECT * FROM hostrun.claim_runs('w-test', '{}', 10)`, []);
  await sql(`SELECT hostrun.start_run('w-test', $1, 1)`, [id]);
  for (const [i, text] of texts.entries()) await sql(`SELECT hostrun.append_run_log($1, 1, $2, 0, 'stdout', $3)`, [id, i + 1, text]);
  return id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = createApp({ pool: db.pool });
  ({ token } = await tokenCreate(db.pool, { name: 'test admin', isSuperadmin: true }));
  const doc = await call('GET', '/api/v1/openapi.json');
  mounted = Boolean(doc.body.paths?.['/api/v1/runs/{id}/logs/tail']);
  if (!mounted) console.warn('[hostrun tests] run-ui-routes.ts is not mounted in app.ts yet: its tests are skipped');
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

describe('run UI routes', () => {
  it('GET /runs/:id/logs/tail answers the newest rows, oldest first, within the limits', async (ctx) => {
    if (!mounted) ctx.skip();
    const id = await runWithLines('default', ['one', 'two', 'three', 'four', 'five']);

    const all = await call('GET', `/api/v1/runs/${id}/logs/tail`);
    expect(all.status).toBe(200);
    expect(all.body.lines.map((l: Json) => l.text)).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(all.body).toMatchObject({ run_id: id, status: 'running', earlier: false, next_after: 5 });

    const two = await call('GET', `/api/v1/runs/${id}/logs/tail?limit=2`);
    expect(two.body.lines.map((l: Json) => l.seq)).toEqual([4, 5]);
    expect(two.body.earlier).toBe(true);

    // By size: rows are kept from the newest while they fit; the one crossing the limit too.
    const chars = await call('GET', `/api/v1/runs/${id}/logs/tail?max_chars=6`);
    expect(chars.body.lines.map((l: Json) => l.text)).toEqual(['four', 'five']);

    const bad = await call('GET', `/api/v1/runs/${id}/logs/tail?limit=0&nope=1`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');

    const empty = await call('GET', `/api/v1/runs/${await runWithLines('default', [])}/logs/tail`);
    expect(empty.body).toMatchObject({ lines: [], earlier: false, next_after: 0 });
    expect((await call('GET', '/api/v1/runs/999999/logs/tail')).status).toBe(404);
  });

  it('GET /projects/:slug/runs/:id/logs/download serves the log of a run in that project only', async (ctx) => {
    if (!mounted) ctx.skip();
    expect((await call('POST', '/api/v1/projects', { body: { slug: 'other', name: 'Other' } })).status).toBe(201);
    const id = await runWithLines('other', ['alpha', 'beta']);

    const res = await call('GET', `/api/v1/projects/other/runs/${id}/logs/download`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="run-${id}.log"`);
    expect(res.body).toBe('alpha\nbeta\n');

    // The run is not in `default`, whatever the header says.
    expect((await call('GET', `/api/v1/projects/default/runs/${id}/logs/download`, { project: 'other' })).status).toBe(404);
    expect((await call('GET', `/api/v1/projects/nope/runs/${id}/logs/download`)).status).toBe(404);
  });
});
