import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded.ts';
import { createPool, type Pool } from '../src/db/pool.ts';
import { migrate } from '../src/db/migrate.ts';

// A fresh, migrated database for one benchmark: `name` recreated on the server of DATABASE_URL,
// or an embedded PostgreSQL in a temporary directory. Also a scratch HOSTRUN_HOME.

export interface BenchDatabase {
  url: string;
  pool: Pool;
  home: string;
  embedded: boolean;
  close(): Promise<void>;
}

export async function openBenchDatabase(name: string): Promise<BenchDatabase> {
  const home = mkdtempSync(path.join(tmpdir(), `${name}-`));
  chmodSync(home, 0o755);
  let embedded: EmbeddedPostgres | undefined;
  let url: string;
  if (process.env.DATABASE_URL) {
    url = await recreateDatabase(process.env.DATABASE_URL, name);
  } else {
    embedded = await startEmbeddedPostgres(home);
    url = embedded.url;
  }
  const pool = createPool(url, { max: 10 });
  await migrate(pool);
  return {
    url,
    pool,
    home,
    embedded: embedded !== undefined,
    async close() {
      await pool.end();
      await embedded?.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Drops and creates database `name` on the server of `serverUrl`; returns its URL. */
export async function recreateDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
