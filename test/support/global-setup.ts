import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded.ts';
import { createPool, redactUrl } from '../../src/db/pool.ts';
import { migrate } from '../../src/db/migrate.ts';
import { ensureWebBuilt } from './web-build.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDb: string;
  }
}

// One Postgres for the whole run: the machine's (DATABASE_URL) or an embedded one in a temp
// directory. Every test file clones its own database from a migrated template, so files run
// in parallel without seeing each other's rows.
export default async function setup(project: TestProject) {
  ensureWebBuilt();
  let embedded: EmbeddedPostgres | undefined;
  let home: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    home = mkdtempSync(path.join(tmpdir(), 'hostrun-test-pg-'));
    chmodSync(home, 0o755);
    embedded = await startEmbeddedPostgres(home);
    adminUrl = embedded.url;
    console.log(`[hostrun tests] embedded PostgreSQL on port ${embedded.port}`);
  } else {
    console.log(`[hostrun tests] PostgreSQL at ${redactUrl(adminUrl)}`);
  }

  const templateDb = `hostrun_tpl_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${templateDb}`);
    await admin.query(`CREATE DATABASE ${templateDb}`);
    const tplPool = createPool(withDatabase(adminUrl, templateDb), { max: 2 });
    try {
      await migrate(tplPool);
    } finally {
      await tplPool.end();
    }
  } catch (err) {
    // No teardown runs when setup fails: do not leave a Postgres behind.
    await admin.end().catch(() => {});
    if (embedded) await embedded.stop();
    if (home) rmSync(home, { recursive: true, force: true });
    throw err;
  }

  project.provide('adminUrl', adminUrl);
  project.provide('templateDb', templateDb);

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${templateDb}`).catch(() => {});
    await admin.end();
    if (embedded) await embedded.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
