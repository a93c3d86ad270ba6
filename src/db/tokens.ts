import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './pool.ts';

// API tokens. The secret is shown once, when created; the database keeps only its sha256, so
// a leaked database dump does not leak usable tokens. 32 random bytes make guessing hopeless,
// which is also why a fast hash (not a password hash) is the right tool here.

export type MemberRole = 'viewer' | 'developer' | 'admin' | 'owner';

export const TOKEN_PREFIX = 'hr_';

export interface TokenRow {
  id: string;
  name: string;
  user_id: string | null;
  project_id: string | null;
  role: MemberRole | null;
  is_superadmin: boolean;
  last_used_at: Date | null;
}

export function tokenGenerate(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

// name: tokenInsert
// $1 name, $2 token hash, $3 is_superadmin, $4 project id, $5 role, $6 user id, $7 expires at,
// $8 created by (user id), $9 hint (the last characters of the secret, for telling tokens apart).
const TOKEN_INSERT_SQL = `
INSERT INTO hostrun.api_tokens (name, token_hash, is_superadmin, project_id, role, user_id, expires_at, created_by, hint)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id`;

export interface TokenCreateRequest {
  name: string;
  isSuperadmin?: boolean;
  projectId?: string;
  role?: MemberRole;
  userId?: string;
  expiresAt?: Date;
  createdBy?: string;
}

/** Creates a token and returns its secret: the only time the secret exists outside its owner. */
export async function tokenCreate(db: Queryable, req: TokenCreateRequest): Promise<{ id: string; token: string }> {
  const token = tokenGenerate();
  const { rows } = await db.query<{ id: string }>(TOKEN_INSERT_SQL, [
    req.name,
    tokenHash(token),
    req.isSuperadmin ?? false,
    req.projectId ?? null,
    req.role ?? null,
    req.userId ?? null,
    req.expiresAt ?? null,
    req.createdBy ?? null,
    token.slice(-4),
  ]);
  return { id: rows[0]!.id, token };
}

// name: tokenFindActive
// $1 token hash. Only tokens that are neither revoked nor expired.
const TOKEN_FIND_ACTIVE_SQL = `
SELECT id, name, user_id, project_id, role, is_superadmin, last_used_at
  FROM hostrun.api_tokens
 WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`;

export async function tokenFindActive(db: Queryable, token: string): Promise<TokenRow | null> {
  const { rows } = await db.query<TokenRow>(TOKEN_FIND_ACTIVE_SQL, [tokenHash(token)]);
  return rows[0] ?? null;
}

// name: tokenTouch
// $1 token id. The WHERE clause keeps this a no-op for a token used within the last minute,
// so even callers that race each other write at most about once a minute per token.
const TOKEN_TOUCH_SQL = `
UPDATE hostrun.api_tokens SET last_used_at = now()
 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`;

export async function tokenTouch(db: Queryable, tokenId: string): Promise<void> {
  await db.query(TOKEN_TOUCH_SQL, [tokenId]);
}

/** What a request authenticated by a token acts as: the token joined with its user and project. */
export interface TokenAuthRow extends TokenRow {
  project_slug: string | null;
  user_email: string | null;
  user_is_superadmin: boolean;
  user_disabled: boolean;
}

// name: tokenAuthenticate
// $1 token hash. A live token with what it acts for; a token of a disabled user is not live.
const TOKEN_AUTHENTICATE_SQL = `
SELECT t.id, t.name, t.user_id, t.project_id, t.role, t.is_superadmin, t.last_used_at,
       p.slug AS project_slug, u.email AS user_email,
       coalesce(u.is_superadmin, false) AS user_is_superadmin, u.disabled_at IS NOT NULL AS user_disabled
  FROM hostrun.api_tokens t
  LEFT JOIN hostrun.projects p ON p.id = t.project_id
  LEFT JOIN hostrun.users u ON u.id = t.user_id
 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`;

export async function tokenAuthenticate(db: Queryable, token: string): Promise<TokenAuthRow | null> {
  const { rows } = await db.query<TokenAuthRow>(TOKEN_AUTHENTICATE_SQL, [tokenHash(token)]);
  const row = rows[0];
  return row && !row.user_disabled ? row : null;
}

/** A token as listed: never the secret, only its last characters. */
export interface TokenListItem {
  id: string;
  name: string;
  hint: string | null;
  project_id: string | null;
  role: MemberRole | null;
  user_id: string | null;
  created_by: string | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const TOKEN_LIST_COLUMNS = `id, name, hint, project_id, role, user_id, created_by, created_at, expires_at, last_used_at, revoked_at`;

// name: tokensListForProject
// $1 project id. The project's tokens, revoked ones included (they say when), newest first.
const TOKENS_LIST_FOR_PROJECT_SQL = `
SELECT ${TOKEN_LIST_COLUMNS} FROM hostrun.api_tokens WHERE project_id = $1 ORDER BY created_at DESC, id`;

export async function tokensListForProject(db: Queryable, projectId: string): Promise<TokenListItem[]> {
  const { rows } = await db.query<TokenListItem>(TOKENS_LIST_FOR_PROJECT_SQL, [projectId]);
  return rows;
}

// name: tokensListForUser
// $1 user id. A user's personal tokens (not scoped to a project), newest first.
const TOKENS_LIST_FOR_USER_SQL = `
SELECT ${TOKEN_LIST_COLUMNS} FROM hostrun.api_tokens WHERE user_id = $1 AND project_id IS NULL
 ORDER BY created_at DESC, id`;

export async function tokensListForUser(db: Queryable, userId: string): Promise<TokenListItem[]> {
  const { rows } = await db.query<TokenListItem>(TOKENS_LIST_FOR_USER_SQL, [userId]);
  return rows;
}

// name: tokenRevokeInProject
// $1 token id, $2 project id. Revoking twice keeps the first time.
const TOKEN_REVOKE_IN_PROJECT_SQL = `
UPDATE hostrun.api_tokens SET revoked_at = coalesce(revoked_at, now())
 WHERE id = $1 AND project_id = $2
RETURNING ${TOKEN_LIST_COLUMNS}`;

export async function tokenRevokeInProject(db: Queryable, id: string, projectId: string): Promise<TokenListItem | null> {
  if (!UUID.test(id)) return null;
  const { rows } = await db.query<TokenListItem>(TOKEN_REVOKE_IN_PROJECT_SQL, [id, projectId]);
  return rows[0] ?? null;
}

// name: tokenRevokeForUser
// $1 token id, $2 user id. A user's personal token.
const TOKEN_REVOKE_FOR_USER_SQL = `
UPDATE hostrun.api_tokens SET revoked_at = coalesce(revoked_at, now())
 WHERE id = $1 AND user_id = $2 AND project_id IS NULL
RETURNING ${TOKEN_LIST_COLUMNS}`;

export async function tokenRevokeForUser(db: Queryable, id: string, userId: string): Promise<TokenListItem | null> {
  if (!UUID.test(id)) return null;
  const { rows } = await db.query<TokenListItem>(TOKEN_REVOKE_FOR_USER_SQL, [id, userId]);
  return rows[0] ?? null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
