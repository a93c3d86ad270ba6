import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { tokenCreate } from '../../src/db/tokens.ts';
import { TOKEN_CACHE_MS } from '../../src/server/auth.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { buildWorld, call, type World } from './world.ts';

// The server remembers a verified API token for a moment (auth.ts, TOKEN_CACHE_MS). What a
// user must never notice: a token revoked, or a user disabled, through this server is refused
// on the very next request; one revoked behind its back (SQL, another server process) within
// TOKEN_CACHE_MS.

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
afterEach(() => vi.useRealTimers());

async function freshToken(name: string, req: Omit<Parameters<typeof tokenCreate>[1], 'name'> = { projectId: world.alpha, role: 'viewer' }) {
  return tokenCreate(db.pool, { name, ...req });
}

describe('remembered tokens', () => {
  it('a token revoked through the API is refused on the next request', async () => {
    const { id, token } = await freshToken('soon-revoked');
    expect((await call(world.app, 'GET', '/api/v1/runs', { token })).status).toBe(200);
    expect((await call(world.app, 'DELETE', `/api/v1/tokens/${id}`, { token: world.tokens.admin })).status).toBeLessThan(300);
    const refused = await call(world.app, 'GET', '/api/v1/runs', { token });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthorized');
  });

  it("a user disabled through the API loses their personal token's access on the next request", async () => {
    const { token } = await freshToken('ada-personal', { userId: world.users.ada.id });
    expect((await call(world.app, 'GET', '/api/v1/runs', { token, headers: { 'x-hostrun-project': 'alpha' } })).status).toBe(200);
    const patched = await call(world.app, 'PATCH', `/api/v1/users/${world.users.ada.id}`, { token: world.tokens.superadmin, body: { disabled: true } });
    expect(patched.status).toBe(200);
    expect((await call(world.app, 'GET', '/api/v1/runs', { token, headers: { 'x-hostrun-project': 'alpha' } })).status).toBe(401);
    await call(world.app, 'PATCH', `/api/v1/users/${world.users.ada.id}`, { token: world.tokens.superadmin, body: { disabled: false } });
  });

  it('a token revoked behind the server is refused once TOKEN_CACHE_MS has passed', async () => {
    const { token } = await freshToken('revoked-by-sql');
    // Only Date is faked: the driver's timers stay real.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    expect((await call(world.app, 'GET', '/api/v1/runs', { token })).status).toBe(200);
    await db.pool.query(`UPDATE hostrun.api_tokens SET revoked_at = now() WHERE name = 'revoked-by-sql'`);
    vi.setSystemTime(Date.now() + TOKEN_CACHE_MS + 1);
    expect((await call(world.app, 'GET', '/api/v1/runs', { token })).status).toBe(401);
  });

  it('an unknown token is never remembered as valid, and a new token works at once', async () => {
    expect((await call(world.app, 'GET', '/api/v1/runs', { token: 'hr_not-a-token' })).status).toBe(401);
    const { token } = await freshToken('brand-new');
    expect((await call(world.app, 'GET', '/api/v1/runs', { token })).status).toBe(200);
  });
});
