import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/db/pool.ts';
import { loadMigrations, migrate } from '../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import pg from 'pg';
import { inject } from 'vitest';
import { withDatabase } from './support/global-setup.ts';

describe('migrations', () => {
  let empty: TestDatabase;
  let url: string;
  const name = `hostrun_m_${process.pid}_${Date.now()}`;

  beforeAll(async () => {
    // A database with nothing in it, not cloned from the migrated template.
    const admin = new pg.Client({ connectionString: inject('adminUrl') });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    url = withDatabase(inject('adminUrl'), name);
    empty = { url, pool: createPool(url), drop: async () => {} } as TestDatabase;
  });

  afterAll(async () => {
    await empty.pool.end();
    const admin = new pg.Client({ connectionString: inject('adminUrl') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('five migrators started at once apply each migration exactly once', async () => {
    const pools = Array.from({ length: 5 }, () => createPool(url, { max: 1 }));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      const all = await loadMigrations();
      // Exactly one migrator applied everything; the other four found nothing to do.
      expect(results.filter((r) => r.length > 0)).toHaveLength(1);
      expect(results.flat().sort()).toEqual(all.map((m) => m.name).sort());
      const ledger = await empty.pool.query('SELECT id FROM hostrun.migrations ORDER BY id');
      expect(ledger.rows.map((r) => r.id)).toEqual(all.map((m) => m.id));
      const projects = await empty.pool.query(`SELECT slug FROM hostrun.projects`);
      expect(projects.rows).toEqual([{ slug: 'default' }]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('refuses a database migrated by a newer Hostrun', async () => {
    await empty.pool.query(`INSERT INTO hostrun.migrations (id, name) VALUES (9999, '9999_future')`);
    await expect(migrate(empty.pool)).rejects.toThrow(/upgrade Hostrun/);
    await empty.pool.query(`DELETE FROM hostrun.migrations WHERE id = 9999`);
  });
});
