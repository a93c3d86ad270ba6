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
  const home = scratchHome(name);
  const server = await benchServer();
  const url = server.embedded ? server.url : await recreateDatabase(server.url, name);
  const pool = createPool(url, { max: 10 });
  await migrate(pool);
  return {
    url,
    pool,
    home,
    embedded: server.embedded,
    async close() {
      await pool.end();
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface BenchServer {
  /** A URL of the server's `postgres` database (or DATABASE_URL as given). */
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * The PostgreSQL server a benchmark measures on: DATABASE_URL's, or, without it, an embedded
 * PostgreSQL started for the run (default settings, autovacuum on), so a benchmark needs no
 * server of its own on the machine, like `npm start` and `npm test`.
 */
export async function benchServer(): Promise<BenchServer> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  const home = scratchHome('hostrun-bench-pg');
  // Commit times let scenario D measure when scheduled runs became visible, not when the
  // transaction that inserted them began (bench/scheduler-scenario.ts).
  const embedded: EmbeddedPostgres = await startEmbeddedPostgres(home, { settings: { track_commit_timestamp: 'on' } });
  return {
    url: embedded.url,
    embedded: true,
    async stop() {
      await embedded.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A temporary directory that the embedded server's own user can reach when we run as root. */
export function scratchHome(prefix: string): string {
  const home = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  chmodSync(home, 0o755);
  return home;
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
