import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type pg from 'pg';
import { HostrunError } from '../core/errors.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
// One key for every Hostrun installation's migrator; it only serialises migrators that share
// a database, which is exactly the set that must not interleave.
const MIGRATION_LOCK_KEY = 'hostrun.migrate';
const MIN_SERVER_VERSION = 130000; // gen_random_uuid() built in; transition tables; hashtextextended

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => ({
      id: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      sql: await readFile(path.join(dir, file), 'utf8'),
    })),
  );
}

/**
 * Applies pending migrations, each in its own transaction, under a session advisory lock so
 * any number of processes starting at once apply each migration exactly once. Returns the
 * names applied by this call.
 */
export async function migrate(pool: pg.Pool, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await loadMigrations());
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`);
    const version = rows[0]?.v ?? 0;
    if (version < MIN_SERVER_VERSION) {
      throw new HostrunError('database', `PostgreSQL ${Math.floor(version / 10000)} is not supported: Hostrun needs PostgreSQL 13 or newer`);
    }
    await client.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS hostrun`);
      await client.query(`CREATE TABLE IF NOT EXISTS hostrun.migrations (
        id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const done = await client.query<{ id: number }>(`SELECT id FROM hostrun.migrations`);
      const applied = new Set(done.rows.map((r) => r.id));
      const newest = Math.max(0, ...applied);
      const known = Math.max(0, ...all.map((m) => m.id));
      if (newest > known) {
        throw new HostrunError('database', `the database has migration ${newest} but this Hostrun knows only up to ${known}: upgrade Hostrun`);
      }
      const ran: string[] = [];
      for (const m of all) {
        if (applied.has(m.id)) continue;
        await client.query('BEGIN');
        try {
          await client.query(`SET LOCAL search_path = hostrun, public`);
          await client.query(m.sql);
          await client.query(`INSERT INTO hostrun.migrations (id, name) VALUES ($1, $2)`, [m.id, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          const msg = (err as Error).message;
          throw new HostrunError('database', `migration ${m.name} failed: ${msg}`, { cause: err });
        }
        ran.push(m.name);
      }
      return ran;
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    client.release();
  }
}
