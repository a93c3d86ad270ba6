import { randomBytes } from 'node:crypto';
import type { Queryable } from './pool.ts';
import { tokenHash } from './tokens.ts';

// Browser sessions: the cookie carries a random secret, the table its sha256 (as for API
// tokens), the user, and the CSRF token the browser must echo on every change.

export interface SessionRow {
  id: string;
  user_id: string;
  csrf_token: string;
  expires_at: Date;
}

// name: sessionInsert
// $1 token hash, $2 user id, $3 csrf token, $4 ip, $5 user agent, $6 lifetime in seconds.
const SESSION_INSERT_SQL = `
INSERT INTO hostrun.sessions (token_hash, user_id, csrf_token, ip, user_agent, expires_at)
VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
RETURNING id, user_id, csrf_token, expires_at`;

export async function sessionCreate(
  db: Queryable,
  req: { userId: string; ip: string | null; userAgent: string | null; lifetimeSeconds: number },
): Promise<{ session: SessionRow; secret: string }> {
  const secret = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  const { rows } = await db.query<SessionRow>(SESSION_INSERT_SQL, [
    tokenHash(secret),
    req.userId,
    csrf,
    req.ip,
    req.userAgent?.slice(0, 300) ?? null,
    req.lifetimeSeconds,
  ]);
  return { session: rows[0]!, secret };
}

// name: sessionFindActive
// $1 token hash. A live session of a user who is not disabled.
const SESSION_FIND_ACTIVE_SQL = `
SELECT s.id, s.user_id, s.csrf_token, s.expires_at
  FROM hostrun.sessions s JOIN hostrun.users u ON u.id = s.user_id
 WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL`;

export async function sessionFindActive(db: Queryable, secret: string): Promise<SessionRow | null> {
  const { rows } = await db.query<SessionRow>(SESSION_FIND_ACTIVE_SQL, [tokenHash(secret)]);
  return rows[0] ?? null;
}

// name: sessionRevoke
// $1 session id.
const SESSION_REVOKE_SQL = `UPDATE hostrun.sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`;

export async function sessionRevoke(db: Queryable, id: string): Promise<void> {
  await db.query(SESSION_REVOKE_SQL, [id]);
}
