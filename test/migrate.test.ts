import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/db/pool.ts';
import { loadMigrations, migrate } from '../src/db/migrate.ts';
import { runStepsList } from '../src/db/runs.ts';
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

describe('upgrading to the hot queue (0013)', () => {
  const name = `hostrun_u_${process.pid}_${Date.now()}`;
  let pool: ReturnType<typeof createPool>;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: inject('adminUrl') });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    pool = createPool(withDatabase(inject('adminUrl'), name));
  });

  afterAll(async () => {
    await pool.end();
    const admin = new pg.Client({ connectionString: inject('adminUrl') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('keeps every run: queued ones claimable, held ones leased, step states moved into their runs', async () => {
    const all = await loadMigrations();
    await migrate(pool, all.filter((m) => m.id <= 12));
    // Runs as an older Hostrun leaves them: queued (one in a concurrency group), claimed and
    // running with leases, finished with step rows, and a fanned-out parent (running, no worker).
    const { rows } = await pool.query<{ id: number; status: string }>(`
      WITH p AS (SELECT id FROM hostrun.projects WHERE slug = 'default')
      INSERT INTO hostrun.runs (project_id, job_name, job_version, trigger, status, attempt, worker_id, priority,
                                concurrency_key, concurrency_max, lease_expires_at, claimed_at, started_at, finished_at, labels)
      SELECT p.id, 'old', 1, 'api', s::hostrun.run_status, a, w, pr, ck, cm, le, ca, sa, fa, lb
        FROM p, (VALUES ('queued', 0, NULL, 5, NULL, NULL, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, '{gpu}'::text[]),
                        ('queued', 0, NULL, 0, 'tv-1', 1, NULL, NULL, NULL, NULL, '{}'),
                        ('claimed', 1, 'w1', 0, NULL, NULL, now() + interval '30 s', now(), NULL, NULL, '{}'),
                        ('running', 1, 'w1', 0, 'tv-1', 1, now() + interval '30 s', now(), now(), NULL, '{}'),
                        ('succeeded', 1, 'w2', 0, NULL, NULL, NULL, now(), now(), now(), '{}'),
                        ('running', 0, NULL, 0, NULL, NULL, NULL, NULL, now(), NULL, '{}'))
             AS v(s, a, w, pr, ck, cm, le, ca, sa, fa, lb)
      RETURNING id, status::text`);
    const [queued, grouped, claimed, running, done, parent] = rows.map((r) => r.id);
    await pool.query(
      `INSERT INTO hostrun.run_steps (run_id, idx, attempt, step_id, name, status, exit_code, started_at, finished_at, outputs, error)
       VALUES ($1, 0, 1, 'build', 'Build', 'succeeded', 0, '2026-01-02T03:04:05.678Z', '2026-01-02T03:04:06.789Z', '{"tag":"v1"}', NULL),
              ($1, 1, 1, 'test', 'Test', 'failed', 2, '2026-01-02T03:04:07Z', '2026-01-02T03:04:08Z', NULL, 'boom'),
              ($2, 0, 1, 'only', 'Only', 'running', NULL, '2026-01-02T03:04:05Z', NULL, NULL, NULL)`,
      [done, running],
    );

    await migrate(pool, all);

    const queue = await pool.query(`SELECT run_id, priority, labels, concurrency_key FROM hostrun.run_queue ORDER BY run_id`);
    expect(queue.rows).toEqual([
      { run_id: queued, priority: 5, labels: ['gpu'], concurrency_key: null },
      { run_id: grouped, priority: 0, labels: [], concurrency_key: 'tv-1' },
    ]);
    const leases = await pool.query(`SELECT run_id, worker_id, concurrency_key, lease_expires_at > now() AS live FROM hostrun.run_leases ORDER BY run_id`);
    expect(leases.rows).toEqual([
      { run_id: claimed, worker_id: 'w1', concurrency_key: null, live: true },
      { run_id: running, worker_id: 'w1', concurrency_key: 'tv-1', live: true },
    ]);
    expect(leases.rows.some((l) => l.run_id === parent)).toBe(false);

    const steps = await runStepsList(pool, done!);
    expect(steps).toEqual([
      { idx: 0, attempt: 1, step_id: 'build', name: 'Build', status: 'succeeded', exit_code: 0, started_at: new Date('2026-01-02T03:04:05.678Z'),
        finished_at: new Date('2026-01-02T03:04:06.789Z'), outputs: { tag: 'v1' }, error: null },
      { idx: 1, attempt: 1, step_id: 'test', name: 'Test', status: 'failed', exit_code: 2, started_at: new Date('2026-01-02T03:04:07Z'),
        finished_at: new Date('2026-01-02T03:04:08Z'), outputs: null, error: 'boom' },
    ]);
    expect((await runStepsList(pool, running!)).map((s) => [s.step_id, s.status, s.finished_at])).toEqual([['only', 'running', null]]);

    // The queue works on what was carried over: the concurrency group is full (its running run
    // holds the only slot), so a claim takes the other queued run only.
    const claim = await pool.query(`SELECT id FROM hostrun.claim_runs('w3', '{gpu}', 10, 30, 10)`);
    expect(claim.rows.map((r) => r.id)).toEqual([queued]);
  });
});
