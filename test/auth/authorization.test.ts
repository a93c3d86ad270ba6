import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Access } from '../../src/server/operations.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { buildWorld, call, type World } from './world.ts';

// Every route of the API against every kind of caller. The table below must name every route
// the app serves (and nothing else): adding a route without deciding who may call it fails here.
//
// For each route: the least access it needs, a concrete URL, and whether the URL names a
// resource of project alpha (then a token of project beta gets 404, not the resource). Bodies
// are `{}`, which every allowed caller gets a 400 (or 404) for, so nothing is changed by
// accident while checking who gets past the gate.

interface Entry {
  min: Access;
  url: string;
  /** Names a resource of alpha: beta's owner token must get 404. */
  resource?: boolean;
  raw?: string;
}

const RUN = '/api/v1/runs/999999';
const JOB = '/api/v1/jobs/hello';

const TABLE: Record<string, Entry> = {
  'GET /healthz': { min: 'public', url: '/healthz' },
  'GET /readyz': { min: 'public', url: '/readyz' },
  'GET /api/v1/openapi.json': { min: 'public', url: '/api/v1/openapi.json' },

  'POST /api/v1/setup': { min: 'public', url: '/api/v1/setup' },
  'POST /api/v1/auth/login': { min: 'public', url: '/api/v1/auth/login' },
  'POST /api/v1/auth/token': { min: 'public', url: '/api/v1/auth/token' },
  'POST /api/v1/auth/logout': { min: 'signed-in', url: '/api/v1/auth/logout' },
  'GET /api/v1/me': { min: 'signed-in', url: '/api/v1/me' },
  'GET /api/v1/me/tokens': { min: 'user', url: '/api/v1/me/tokens' },
  'POST /api/v1/me/tokens': { min: 'user', url: '/api/v1/me/tokens' },
  'DELETE /api/v1/me/tokens/:id': { min: 'user', url: '/api/v1/me/tokens/00000000-0000-0000-0000-000000000000' },

  'GET /api/v1/users': { min: 'superadmin', url: '/api/v1/users' },
  'POST /api/v1/users': { min: 'superadmin', url: '/api/v1/users' },
  'PATCH /api/v1/users/:id': { min: 'superadmin', url: '/api/v1/users/00000000-0000-0000-0000-000000000000' },

  'GET /api/v1/projects': { min: 'signed-in', url: '/api/v1/projects' },
  'POST /api/v1/projects': { min: 'unscoped', url: '/api/v1/projects' },
  'GET /api/v1/projects/:slug': { min: 'viewer', url: '/api/v1/projects/alpha', resource: true },
  'PATCH /api/v1/projects/:slug': { min: 'owner', url: '/api/v1/projects/alpha', resource: true },
  'DELETE /api/v1/projects/:slug': { min: 'owner', url: '/api/v1/projects/alpha', resource: true },

  'GET /api/v1/members': { min: 'viewer', url: '/api/v1/members' },
  'POST /api/v1/members': { min: 'admin', url: '/api/v1/members' },
  'PATCH /api/v1/members/:user': { min: 'admin', url: '/api/v1/members/nobody@example.com', resource: true },
  'DELETE /api/v1/members/:user': { min: 'admin', url: '/api/v1/members/nobody@example.com', resource: true },

  'GET /api/v1/tokens': { min: 'admin', url: '/api/v1/tokens' },
  'POST /api/v1/tokens': { min: 'admin', url: '/api/v1/tokens' },
  'DELETE /api/v1/tokens/:id': { min: 'admin', url: '/api/v1/tokens/00000000-0000-0000-0000-000000000000', resource: true },

  'POST /api/v1/jobs': { min: 'developer', url: '/api/v1/jobs' },
  'POST /api/v1/jobs/validate': { min: 'developer', url: '/api/v1/jobs/validate' },
  'GET /api/v1/jobs': { min: 'viewer', url: '/api/v1/jobs' },
  'GET /api/v1/jobs/:name': { min: 'viewer', url: JOB, resource: true },
  'DELETE /api/v1/jobs/:name': { min: 'developer', url: '/api/v1/jobs/nope', resource: true },
  'POST /api/v1/jobs/:name/enable': { min: 'developer', url: '/api/v1/jobs/nope/enable', resource: true },
  'POST /api/v1/jobs/:name/disable': { min: 'developer', url: '/api/v1/jobs/nope/disable', resource: true },
  'POST /api/v1/jobs/:name/runs': { min: 'developer', url: '/api/v1/jobs/nope/runs', resource: true },
  'GET /api/v1/jobs/:name/versions': { min: 'viewer', url: `${JOB}/versions`, resource: true },
  'GET /api/v1/jobs/:name/versions/:version': { min: 'viewer', url: `${JOB}/versions/1`, resource: true },
  'GET /api/v1/jobs/:name/diff': { min: 'viewer', url: `${JOB}/diff?from=1`, resource: true },
  'GET /api/v1/jobs/:name/webhook': { min: 'developer', url: `${JOB}/webhook`, resource: true },
  'PUT /api/v1/jobs/:name/webhook/secret': { min: 'developer', url: '/api/v1/jobs/nope/webhook/secret', resource: true },
  'DELETE /api/v1/jobs/:name/webhook/secret': { min: 'developer', url: '/api/v1/jobs/nope/webhook/secret', resource: true },
  'POST /api/v1/hooks/:id': { min: 'public', url: '/api/v1/hooks/wh_notarealwebhookidnotarealwebhook' },

  'GET /api/v1/runs': { min: 'viewer', url: '/api/v1/runs' },
  'GET /api/v1/runs/:id': { min: 'viewer', url: RUN, resource: true },
  'GET /api/v1/runs/:id/steps': { min: 'viewer', url: `${RUN}/steps`, resource: true },
  'GET /api/v1/runs/:id/logs': { min: 'viewer', url: `${RUN}/logs`, resource: true },
  'GET /api/v1/runs/:id/logs/download': { min: 'viewer', url: `${RUN}/logs/download`, resource: true },
  'GET /api/v1/runs/:id/logs/stream': { min: 'viewer', url: `${RUN}/logs/stream`, resource: true },
  'GET /api/v1/runs/:id/logs/tail': { min: 'viewer', url: `${RUN}/logs/tail`, resource: true },
  'GET /api/v1/projects/:slug/runs/:id/logs/download': { min: 'viewer', url: '/api/v1/projects/alpha/runs/999999/logs/download', resource: true },
  'GET /api/v1/runs/:id/events': { min: 'viewer', url: `${RUN}/events`, resource: true },
  'POST /api/v1/runs/:id/cancel': { min: 'developer', url: `${RUN}/cancel`, resource: true },
  'POST /api/v1/runs/:id/rerun': { min: 'developer', url: `${RUN}/rerun`, resource: true },
  'GET /api/v1/runs/:id/artifacts': { min: 'viewer', url: `${RUN}/artifacts`, resource: true },
  'PUT /api/v1/runs/:id/artifacts/:key{.+}': { min: 'developer', url: `${RUN}/artifacts/out/report.txt`, resource: true, raw: 'data' },
  'GET /api/v1/runs/:id/artifacts/:key{.+}': { min: 'viewer', url: `${RUN}/artifacts/out/report.txt`, resource: true },

  'GET /api/v1/schedules': { min: 'viewer', url: '/api/v1/schedules' },
  'GET /api/v1/schedules/:id': { min: 'viewer', url: '/api/v1/schedules/00000000-0000-0000-0000-000000000000', resource: true },
  'POST /api/v1/schedules/:id/enable': { min: 'developer', url: '/api/v1/schedules/00000000-0000-0000-0000-000000000000/enable', resource: true },
  'POST /api/v1/schedules/:id/disable': { min: 'developer', url: '/api/v1/schedules/00000000-0000-0000-0000-000000000000/disable', resource: true },

  'GET /api/v1/events': { min: 'viewer', url: '/api/v1/events' },

  'GET /api/v1/hosts': { min: 'viewer', url: '/api/v1/hosts' },
  'GET /api/v1/hosts/:name': { min: 'viewer', url: '/api/v1/hosts/nope', resource: true },
  'PUT /api/v1/hosts/:name': { min: 'admin', url: '/api/v1/hosts/nope' },
  'DELETE /api/v1/hosts/:name': { min: 'admin', url: '/api/v1/hosts/nope', resource: true },
  'POST /api/v1/hosts/:name/test': { min: 'admin', url: '/api/v1/hosts/nope/test', resource: true },
  'POST /api/v1/hosts/:name/scan': { min: 'admin', url: '/api/v1/hosts/nope/scan', resource: true },
  'POST /api/v1/hosts/:name/pin': { min: 'admin', url: '/api/v1/hosts/nope/pin', resource: true },
  'GET /api/v1/secrets': { min: 'admin', url: '/api/v1/secrets' },
  'PUT /api/v1/secrets/:name': { min: 'admin', url: '/api/v1/secrets/NOPE' },
  'DELETE /api/v1/secrets/:name': { min: 'admin', url: '/api/v1/secrets/NOPE', resource: true },

  'GET /api/v1/workers': { min: 'viewer', url: '/api/v1/workers' },
  'GET /api/v1/audit': { min: 'admin', url: '/api/v1/audit' },
  'GET /api/v1/audit/installation': { min: 'superadmin', url: '/api/v1/audit/installation' },

  'GET /api/v1/reports/status': { min: 'viewer', url: '/api/v1/reports/status' },
  'GET /api/v1/reports/jobs': { min: 'viewer', url: '/api/v1/reports/jobs' },
  'GET /api/v1/reports/jobs/:name': { min: 'viewer', url: '/api/v1/reports/jobs/hello', resource: true },
  'GET /api/v1/reports/summary': { min: 'viewer', url: '/api/v1/reports/summary' },
  'GET /api/v1/reports/dashboard': { min: 'viewer', url: '/api/v1/reports/dashboard' },
  'GET /api/v1/reports/export': { min: 'viewer', url: '/api/v1/reports/export' },

  'POST /api/save-config': { min: 'developer', url: '/api/save-config' },
  'POST /api/run': { min: 'developer', url: '/api/run' },
};

type Caller = keyof World['tokens'] | 'none';
const CALLERS: Caller[] = ['none', 'expired', 'revoked', 'viewer', 'developer', 'admin', 'owner', 'superadmin', 'beta'];
const RANK: Record<string, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

/** 'ok' means: past the gate (any status but 401, 403 and 5xx). */
function expected(entry: Entry, caller: Caller): 'ok' | 401 | 403 | 404 {
  if (entry.min === 'public') return 'ok';
  if (caller === 'none' || caller === 'expired' || caller === 'revoked') return 401;
  if (entry.min === 'signed-in') return 'ok';
  // Every token here is a project token or the user-less admin token: none is a person.
  if (entry.min === 'user') return 403;
  if (caller === 'superadmin') return 'ok';
  if (entry.min === 'unscoped') return 403;
  if (entry.min === 'superadmin') return 403;
  if (caller === 'beta') return entry.resource ? 404 : 'ok';
  return RANK[caller]! >= RANK[entry.min]! ? 'ok' : 403;
}

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await buildWorld(db.pool);
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

describe('authorization table', () => {
  it('names every route the app serves, and only those', () => {
    const served = new Set(world.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`));
    const missing = [...served].filter((k) => !(k in TABLE));
    const stale = Object.keys(TABLE).filter((k) => !served.has(k));
    expect(missing, 'routes without an entry in the authorization table').toEqual([]);
    expect(stale, 'entries for routes the app does not serve').toEqual([]);
  });

  for (const [key, entry] of Object.entries(TABLE)) {
    it(`${key} (${entry.min})`, async () => {
      const method = key.split(' ')[0]!;
      const failures: string[] = [];
      for (const caller of CALLERS) {
        const token = caller === 'none' ? undefined : world.tokens[caller];
        // The superadmin token belongs to no project: it names alpha explicitly.
        const headers: Record<string, string> = caller === 'superadmin' ? { 'x-hostrun-project': 'alpha' } : {};
        const res = await call(world.app, method, entry.url, {
          ...(token ? { token } : {}),
          headers,
          ...(method === 'GET' ? {} : entry.raw !== undefined ? { raw: entry.raw, headers: { ...headers, 'content-type': 'application/octet-stream' } } : { body: {} }),
        });
        const want = expected(entry, caller);
        const ok = want === 'ok' ? ![401, 403].includes(res.status) && res.status < 500 : res.status === want;
        if (!ok) failures.push(`${caller}: got ${res.status}, want ${want} ${JSON.stringify(res.body)?.slice(0, 200)}`);
      }
      expect(failures).toEqual([]);
    });
  }
});

describe('project selection', () => {
  it('refuses a project token asked to act in another project, without saying whether it exists', async () => {
    for (const project of ['beta', 'no-such-project']) {
      const res = await call(world.app, 'GET', '/api/v1/jobs', { token: world.tokens.owner, headers: { 'x-hostrun-project': project } });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toBe(`this token belongs to project alpha; it cannot act in project ${project}`);
    }
  });

  it('answers 404 alike for a project that does not exist and one the caller is not in', async () => {
    const missing = await call(world.app, 'GET', '/api/v1/jobs', { token: world.tokens.superadmin, headers: { 'x-hostrun-project': 'no-such' } });
    expect(missing.status).toBe(404);
    const other = await call(world.app, 'GET', '/api/v1/projects/alpha', { token: world.tokens.beta });
    expect(other.status).toBe(404);
    expect(other.body.error.message).toBe('project "alpha" not found');
  });

  it('says in one line who cannot do what where', async () => {
    const res = await call(world.app, 'POST', '/api/v1/jobs/hello/runs', { token: world.tokens.viewer, body: {} });
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: 'forbidden', message: 'viewer cannot run jobs in project alpha', details: [] });
  });

  it('keeps resources of another project out of reach', async () => {
    const run = await call(world.app, 'POST', '/api/v1/jobs/hello/runs', { token: world.tokens.developer, body: {} });
    expect(run.status).toBe(201);
    for (const path of [`/api/v1/runs/${run.body.id}`, `/api/v1/runs/${run.body.id}/logs`, '/api/v1/jobs/hello']) {
      expect((await call(world.app, 'GET', path, { token: world.tokens.beta })).status).toBe(404);
    }
    expect((await call(world.app, 'POST', `/api/v1/runs/${run.body.id}/cancel`, { token: world.tokens.beta })).status).toBe(404);
    const list = await call(world.app, 'GET', '/api/v1/runs', { token: world.tokens.beta });
    expect(list.body.runs).toEqual([]);
  });
});
