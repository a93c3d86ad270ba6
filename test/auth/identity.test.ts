import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setupTokenIssue } from '../../src/db/setup-tokens.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { buildWorld, call, PASSWORD, type World } from './world.ts';

// Identity: the first user through the setup token, sessions with CSRF, throttled sign-in,
// personal and project tokens, Supabase access tokens, membership rules, mass assignment.

const SUPABASE_SECRET = 'test-supabase-jwt-secret-of-some-length';

let db: TestDatabase;
let world: World;

function jwt(claims: Record<string, unknown>, secret = SUPABASE_SECRET, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${enc(header)}.${enc(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

async function login(email: string, password = PASSWORD) {
  const res = await call(world.app, 'POST', '/api/v1/auth/login', { body: { email, password } });
  const cookie = res.headers.get('set-cookie') ?? '';
  return { res, cookie: cookie.split(';')[0]!, setCookie: cookie };
}

beforeAll(async () => {
  db = await createTestDatabase();
  world = await buildWorld(db.pool, { supabase: { jwtSecret: SUPABASE_SECRET } });
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

describe('first user', () => {
  it('is created once with the setup token, never with a default password', async () => {
    const fresh = await createTestDatabase();
    try {
      const { createApp } = await import('../../src/server/app.ts');
      const app = createApp({ pool: fresh.pool });
      const token = await setupTokenIssue(fresh.pool);
      expect(token).toMatch(/^hrs_/);
      // A second start replaces the first token.
      const newer = await setupTokenIssue(fresh.pool);
      const body = { email: 'root@example.com', password: 'a long enough password' };
      expect((await call(app, 'POST', '/api/v1/setup', { body: { ...body, setup_token: token } })).status).toBe(401);
      const created = await call(app, 'POST', '/api/v1/setup', { body: { ...body, setup_token: newer } });
      expect(created.status).toBe(201);
      expect(created.body.user).toMatchObject({ email: 'root@example.com', is_superadmin: true });
      expect((await call(app, 'POST', '/api/v1/setup', { body: { ...body, email: 'x@example.com', setup_token: newer } })).status).toBe(401);
      expect(await setupTokenIssue(fresh.pool)).toBeNull();
      const { rows } = await fresh.pool.query(`SELECT password_hash FROM hostrun.users`);
      expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    } finally {
      await fresh.drop();
    }
  });
});

describe('sessions', () => {
  it('sign in sets an HttpOnly SameSite cookie; changes need the CSRF header', async () => {
    const { res, cookie, setCookie } = await login('ada@example.com');
    expect(res.status).toBe(200);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    const csrf = res.body.csrf_token as string;

    const me = await call(world.app, 'GET', '/api/v1/me', { headers: { cookie } });
    expect(me.body).toMatchObject({ kind: 'session', user: { email: 'ada@example.com' }, csrf_token: csrf });
    expect(me.body.projects).toEqual([expect.objectContaining({ slug: 'alpha', role: 'developer' })]);

    const noCsrf = await call(world.app, 'POST', '/api/v1/jobs/hello/runs', { headers: { cookie, 'x-hostrun-project': 'alpha' }, body: {} });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.error.message).toMatch(/x-hostrun-csrf/i);
    const wrongCsrf = await call(world.app, 'POST', '/api/v1/jobs/hello/runs', { headers: { cookie, 'x-hostrun-project': 'alpha', 'x-hostrun-csrf': 'nope' }, body: {} });
    expect(wrongCsrf.status).toBe(403);
    const ok = await call(world.app, 'POST', '/api/v1/jobs/hello/runs', { headers: { cookie, 'x-hostrun-project': 'alpha', 'x-hostrun-csrf': csrf }, body: {} });
    expect(ok.status).toBe(201);
    expect(ok.body.created_by).toBe(world.users.ada.id);

    // Reads need no CSRF header; after logout the cookie is worthless.
    expect((await call(world.app, 'GET', '/api/v1/jobs', { headers: { cookie, 'x-hostrun-project': 'alpha' } })).status).toBe(200);
    expect((await call(world.app, 'POST', '/api/v1/auth/logout', { headers: { cookie, 'x-hostrun-csrf': csrf } })).status).toBe(200);
    expect((await call(world.app, 'GET', '/api/v1/me', { headers: { cookie } })).status).toBe(401);
  });

  it('throttles failed sign-ins per IP and email, even for the right password afterwards', async () => {
    for (let i = 0; i < 5; i++) expect((await login('bob@example.com', 'wrong password!')).res.status).toBe(401);
    const blocked = await login('bob@example.com');
    expect(blocked.res.status).toBe(429);
    expect(blocked.res.body.error.code).toBe('rate_limited');
    // Another account from the same place is not locked by bob's failures.
    expect((await login('ada@example.com')).res.status).toBe(200);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM hostrun.audit_log WHERE action = 'auth.login_failed'`);
    expect(rows[0].n).toBe(5);
  });

  it('does not tell unknown emails from wrong passwords', async () => {
    const unknown = await login('nobody@example.com', 'whatever password');
    const wrong = await login('ada@example.com', 'whatever password');
    expect(unknown.res.status).toBe(401);
    expect(unknown.res.body).toEqual(wrong.res.body);
  });
});

describe('tokens', () => {
  it('hostrun login: a personal token, shown once, listed without its secret, revocable', async () => {
    const res = await call(world.app, 'POST', '/api/v1/auth/token', { body: { email: 'ada@example.com', password: PASSWORD, name: 'laptop' } });
    expect(res.status).toBe(201);
    const token = res.body.token as string;
    expect((await call(world.app, 'GET', '/api/v1/jobs', { token, headers: { 'x-hostrun-project': 'alpha' } })).status).toBe(200);
    // Ada is not a member of beta: it does not exist for her.
    expect((await call(world.app, 'GET', '/api/v1/jobs', { token, headers: { 'x-hostrun-project': 'beta' } })).status).toBe(404);
    const list = await call(world.app, 'GET', '/api/v1/me/tokens', { token });
    expect(list.body.tokens).toEqual([expect.objectContaining({ id: res.body.id, name: 'laptop', hint: token.slice(-4) })]);
    expect(JSON.stringify(list.body)).not.toContain(token);
    expect((await call(world.app, 'DELETE', `/api/v1/me/tokens/${res.body.id}`, { token })).status).toBe(200);
    expect((await call(world.app, 'GET', '/api/v1/me', { token })).status).toBe(401);
  });

  it('project tokens: created by admins up to their own role, with expiry, revocable', async () => {
    const tooHigh = await call(world.app, 'POST', '/api/v1/tokens', { token: world.tokens.admin, body: { name: 'x', role: 'owner' } });
    expect(tooHigh.status).toBe(403);
    expect(tooHigh.body.error.message).toBe('admin cannot create owner tokens in project alpha');
    const created = await call(world.app, 'POST', '/api/v1/tokens', {
      token: world.tokens.admin,
      body: { name: 'ci', role: 'developer', expires_at: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'ci', role: 'developer', project: 'alpha', token: expect.stringMatching(/^hr_/) });
    const ci = created.body.token as string;
    expect((await call(world.app, 'POST', '/api/v1/jobs/hello/runs', { token: ci, body: {} })).status).toBe(201);
    const past = await call(world.app, 'POST', '/api/v1/tokens', { token: world.tokens.admin, body: { name: 'y', role: 'viewer', expires_at: '2001-01-01T00:00:00Z' } });
    expect(past.status).toBe(400);
    expect((await call(world.app, 'DELETE', `/api/v1/tokens/${created.body.id}`, { token: world.tokens.admin })).status).toBe(200);
    expect((await call(world.app, 'GET', '/api/v1/jobs', { token: ci })).status).toBe(401);
    // Another project's admin cannot revoke alpha's tokens: they are not there for it.
    const listed = await call(world.app, 'GET', '/api/v1/tokens', { token: world.tokens.admin });
    const viewerToken = listed.body.tokens.find((t: { name: string }) => t.name === 'v');
    expect((await call(world.app, 'DELETE', `/api/v1/tokens/${viewerToken.id}`, { token: world.tokens.beta })).status).toBe(404);
  });
});

describe('mass assignment', () => {
  const attempts: [string, string, unknown, keyof World['tokens']][] = [
    ['POST', '/api/v1/jobs/hello/runs', { inputs: {}, project_id: '00000000-0000-0000-0000-000000000000' }, 'developer'],
    ['POST', '/api/v1/jobs/hello/runs', { inputs: {}, created_by: '00000000-0000-0000-0000-000000000000' }, 'developer'],
    ['POST', '/api/v1/tokens', { name: 'x', role: 'viewer', project_id: '00000000-0000-0000-0000-000000000000' }, 'owner'],
    ['POST', '/api/v1/tokens', { name: 'x', role: 'viewer', is_superadmin: true }, 'owner'],
    ['POST', '/api/v1/members', { user: 'bob@example.com', role: 'viewer', is_superadmin: true }, 'owner'],
    ['PATCH', '/api/v1/members/ada@example.com', { role: 'viewer', project_id: '00000000-0000-0000-0000-000000000000' }, 'owner'],
    ['POST', '/api/v1/projects', { slug: 'gamma', owner: 'bob@example.com' }, 'superadmin'],
    ['POST', '/api/v1/users', { email: 'eve@example.com', id: '00000000-0000-0000-0000-000000000000' }, 'superadmin'],
    ['POST', '/api/v1/runs/1/rerun', { inputs: {}, trigger: 'schedule' }, 'developer'],
  ];
  for (const [method, path, body, who] of attempts) {
    it(`${method} ${path} refuses ${Object.keys(body as object).at(-1)}`, async () => {
      const res = await call(world.app, method, path, { token: world.tokens[who], body, headers: who === 'superadmin' ? { 'x-hostrun-project': 'alpha' } : {} });
      expect([400, 404]).toContain(res.status);
      if (res.status === 400) expect(res.body.error.code).toBe('invalid_request');
    });
  }
  it('leaves nothing behind', async () => {
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM hostrun.users WHERE email = 'eve@example.com'`);
    expect(rows[0].n).toBe(0);
  });
});

describe('members', () => {
  it('admins manage members below owner; the last owner stays', async () => {
    const add = await call(world.app, 'POST', '/api/v1/members', { token: world.tokens.admin, body: { user: 'bob@example.com', role: 'viewer' } });
    expect(add.status).toBe(201);
    const promote = await call(world.app, 'PATCH', '/api/v1/members/bob@example.com', { token: world.tokens.admin, body: { role: 'owner' } });
    expect(promote.status).toBe(403);
    expect(promote.body.error.message).toBe('admin cannot grant owner in project alpha');
    expect((await call(world.app, 'PATCH', '/api/v1/members/bob@example.com', { token: world.tokens.owner, body: { role: 'owner' } })).status).toBe(200);
    expect((await call(world.app, 'DELETE', '/api/v1/members/bob@example.com', { token: world.tokens.owner })).status).toBe(409);
    const list = await call(world.app, 'GET', '/api/v1/members', { token: world.tokens.viewer });
    expect(list.body.members.map((m: { email: string; role: string }) => `${m.email}:${m.role}`)).toEqual(['ada@example.com:developer', 'bob@example.com:owner']);
  });

  it('a user token never outranks its user: removing the member disarms it', async () => {
    const res = await call(world.app, 'POST', '/api/v1/auth/token', { body: { email: 'ada@example.com', password: PASSWORD } });
    const token = res.body.token as string;
    expect((await call(world.app, 'POST', '/api/v1/jobs/hello/runs', { token, headers: { 'x-hostrun-project': 'alpha' }, body: {} })).status).toBe(201);
    await db.pool.query(`UPDATE hostrun.project_members SET role = 'viewer' WHERE user_id = $1`, [world.users.ada.id]);
    const refused = await call(world.app, 'POST', '/api/v1/jobs/hello/runs', { token, headers: { 'x-hostrun-project': 'alpha' }, body: {} });
    expect(refused.status).toBe(403);
    await db.pool.query(`UPDATE hostrun.project_members SET role = 'developer' WHERE user_id = $1`, [world.users.ada.id]);
  });
});

describe('supabase', () => {
  const now = () => Math.floor(Date.now() / 1000);
  it('accepts an access token signed with the project secret and maps it by email, then by sub', async () => {
    const token = jwt({ sub: 'sb-ada', email: 'ada@example.com', aud: 'authenticated', exp: now() + 600 });
    const me = await call(world.app, 'GET', '/api/v1/me', { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'supabase', user: { email: 'ada@example.com' } });
    // Linked: the sub alone finds her now.
    const bySub = await call(world.app, 'GET', '/api/v1/me', { token: jwt({ sub: 'sb-ada', aud: 'authenticated', exp: now() + 600 }) });
    expect(bySub.body.user.email).toBe('ada@example.com');
  });

  it('refuses tampered, foreign, expired, unsigned and unknown tokens', async () => {
    const good = jwt({ sub: 'sb-ada', aud: 'authenticated', exp: now() + 600 });
    const [h, , s] = good.split('.');
    const tamperedClaims = Buffer.from(JSON.stringify({ sub: 'sb-ada', aud: 'authenticated', exp: now() + 600, role: 'service_role' })).toString('base64url');
    const cases = {
      tampered: `${h}.${tamperedClaims}.${s}`,
      otherSecret: jwt({ sub: 'sb-ada', aud: 'authenticated', exp: now() + 600 }, 'another-secret-entirely'),
      expired: jwt({ sub: 'sb-ada', aud: 'authenticated', exp: now() - 3600 }),
      wrongAudience: jwt({ sub: 'sb-ada', aud: 'anon', exp: now() + 600 }),
      algNone: `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'sb-ada', aud: 'authenticated', exp: now() + 600 })).toString('base64url')}.`,
      unknownUser: jwt({ sub: 'sb-mallory', email: 'mallory@example.com', aud: 'authenticated', exp: now() + 600 }),
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await call(world.app, 'GET', '/api/v1/me', { token });
      expect(res.status, name).toBe(401);
    }
  });
});

describe('audit', () => {
  it('records who changed what, readable by admins only', async () => {
    await call(world.app, 'POST', '/api/v1/jobs/hello/disable', { token: world.tokens.developer });
    await call(world.app, 'POST', '/api/v1/jobs/hello/enable', { token: world.tokens.developer });
    expect((await call(world.app, 'GET', '/api/v1/audit', { token: world.tokens.developer })).status).toBe(403);
    const log = await call(world.app, 'GET', '/api/v1/audit?action=job.', { token: world.tokens.admin });
    expect(log.status).toBe(200);
    expect(log.body.entries.slice(0, 2)).toEqual([
      expect.objectContaining({ action: 'job.enable', resource_type: 'jobs', resource_id: 'hello', actor: 'token d', project_id: world.alpha }),
      expect.objectContaining({ action: 'job.disable', resource_id: 'hello', actor: 'token d' }),
    ]);
    // Beta's admin sees none of alpha's entries.
    const beta = await call(world.app, 'GET', '/api/v1/audit', { token: world.tokens.beta });
    expect(beta.body.entries).toEqual([]);
  });
});
