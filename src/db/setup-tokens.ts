import { randomBytes } from 'node:crypto';
import { withTransaction, type Pool, type PoolClient } from './pool.ts';
import { tokenHash } from './tokens.ts';

// The first user of an installation is created with a one-time setup token that `hostrun
// start` prints while no user exists, so there is never a default password. Only its hash is
// stored; each start replaces an unused token with a new one.

const SETUP_TOKEN_PREFIX = 'hrs_';

// name: setupTokensClear
// No parameters. Drops every earlier setup token: only the newest printed one works.
const SETUP_TOKENS_CLEAR_SQL = `DELETE FROM hostrun.setup_tokens`;

// name: setupTokenInsert
// $1 token hash, $2 lifetime in seconds.
const SETUP_TOKEN_INSERT_SQL = `
INSERT INTO hostrun.setup_tokens (token_hash, expires_at) VALUES ($1, now() + make_interval(secs => $2))`;

// name: usersLockTable
// No parameters. Serialises "is there a user yet?" with creating the first one.
const USERS_LOCK_SQL = `LOCK TABLE hostrun.users IN SHARE ROW EXCLUSIVE MODE`;

/** A new setup token when the installation has no user, else null. */
export async function setupTokenIssue(pool: Pool, lifetimeSeconds = 24 * 3600): Promise<string | null> {
  return withTransaction(pool, async (tx) => {
    await tx.query(USERS_LOCK_SQL);
    const { rows } = await tx.query<{ exists: boolean }>(`SELECT EXISTS (SELECT 1 FROM hostrun.users) AS exists`);
    if (rows[0]?.exists) return null;
    const token = SETUP_TOKEN_PREFIX + randomBytes(24).toString('base64url');
    await tx.query(SETUP_TOKENS_CLEAR_SQL);
    await tx.query(SETUP_TOKEN_INSERT_SQL, [tokenHash(token), lifetimeSeconds]);
    return token;
  });
}

// name: setupTokenConsume
// $1 token hash. Marks a live, unused token used; returns whether one was.
const SETUP_TOKEN_CONSUME_SQL = `
UPDATE hostrun.setup_tokens SET used_at = now()
 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
RETURNING 1`;

/**
 * Runs `create` (which makes the first user) only if `token` is the live setup token and no
 * user exists yet, all in one transaction: two racing setups cannot both succeed.
 */
export async function setupTokenRedeem<T>(pool: Pool, token: string, create: (tx: PoolClient) => Promise<T>): Promise<T | null> {
  return withTransaction(pool, async (tx) => {
    await tx.query(USERS_LOCK_SQL);
    const { rows } = await tx.query<{ exists: boolean }>(`SELECT EXISTS (SELECT 1 FROM hostrun.users) AS exists`);
    if (rows[0]?.exists) return null;
    const consumed = await tx.query(SETUP_TOKEN_CONSUME_SQL, [tokenHash(token)]);
    if ((consumed.rowCount ?? 0) === 0) return null;
    return create(tx);
  });
}
