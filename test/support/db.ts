import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject, onTestFailed } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { withDatabase } from './global-setup.ts';

export interface TestDatabase {
  /** Connection string of this test file's own database (migrated). */
  url: string;
  pool: Pool;
  /** Drops the database, unless a test failed: then it is kept and its name printed. */
  drop(): Promise<void>;
}

let anyFailed = false;

/** A fresh, migrated database cloned from the run's template. Call in beforeAll. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminUrl');
  const template = inject('templateDb');
  const name = `hostrun_t_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const pool = createPool(url, { max: 20 });
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      if (anyFailed) {
        console.log(`[hostrun tests] kept database ${name} for inspection (a test failed)`);
        return;
      }
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await c.end();
    },
  };
}

/** Call inside each test that should keep its database when it fails. */
export function keepDatabaseOnFailure(): void {
  onTestFailed(() => {
    anyFailed = true;
  });
}
