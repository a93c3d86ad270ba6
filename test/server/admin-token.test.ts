import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tokenFindActive } from '../../src/db/tokens.ts';
import { adminTokenEnsure } from '../../src/server/admin-token.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
let home: string;

beforeAll(async () => {
  db = await createTestDatabase();
  home = path.join(mkdtempSync(path.join(tmpdir(), 'hostrun-token-')), 'home');
});

afterAll(async () => {
  await db?.drop();
  rmSync(path.dirname(home), { recursive: true, force: true });
});

beforeEach(() => keepDatabaseOnFailure());

describe('adminTokenEnsure', () => {
  it('creates the token file (0600), keeps it while valid, and replaces it when the database forgot it', async () => {
    const first = await adminTokenEnsure(db.pool, home);
    expect(first.created).toBe(true);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    const token = readFileSync(first.file, 'utf8').trim();
    expect(token).toMatch(/^hr_[A-Za-z0-9_-]{43}$/);
    expect(await tokenFindActive(db.pool, token)).toMatchObject({ is_superadmin: true });
    // Only the hash is stored.
    const raw = await db.pool.query(`SELECT count(*)::int AS n FROM hostrun.api_tokens WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'`, [token]);
    expect(raw.rows[0].n).toBe(0);

    expect(await adminTokenEnsure(db.pool, home)).toEqual({ file: first.file, created: false });
    expect(readFileSync(first.file, 'utf8').trim()).toBe(token);

    await db.pool.query(`UPDATE hostrun.api_tokens SET revoked_at = now()`);
    const renewed = await adminTokenEnsure(db.pool, home);
    expect(renewed.created).toBe(true);
    expect(readFileSync(first.file, 'utf8').trim()).not.toBe(token);
  });
});
