import pg from 'pg';
import { HostrunError } from '../core/errors.ts';

// int8 (bigint) comes back as a JS number: run ids and sequence numbers stay far below 2^53,
// and callers should not have to juggle strings for ids. COUNT(*) is int8 as well.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient | pg.Client;

export interface PoolOptions {
  max?: number;
  applicationName?: string;
}

export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'hostrun',
    // A dead database should surface as an error, not as a hang.
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection emits 'error' on the pool; without a listener Node
  // would crash the process. The next query simply gets a fresh connection.
  pool.on('error', () => {});
  return pool;
}

/** Runs `fn` in a transaction on one client; rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Wraps a driver error so the message names the problem without leaking a stack or a URL. */
export function databaseError(err: unknown, what: string): HostrunError {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT') {
    return new HostrunError('database', `${what}: database unreachable (${e.code})`, { cause: err });
  }
  return new HostrunError('database', `${what}: ${e.message ?? String(err)}`, { cause: err });
}

/** A connection string with the password replaced, safe to print. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}
