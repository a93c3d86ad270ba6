import { HostrunError } from '../core/errors.ts';
import { loadMigrations } from '../db/migrate.ts';
import type { Pool } from '../db/pool.ts';
import { Routes } from './operations.ts';

// Probes for supervisors and load balancers; no token needed, nothing sensitive in them.
//   /healthz  the process is up and serving (never touches the database)
//   /readyz   the database answers and has every migration this build knows

// name: migrationsNewest — the id of the newest migration applied to this database.
const MIGRATIONS_NEWEST_SQL = `SELECT coalesce(max(id), 0) AS id FROM hostrun.migrations`;

export function healthRoutes({ pool }: { pool: Pool }): Routes {
  const r = new Routes();
  let expected: number | null = null;
  const tag = 'health';

  r.get('/healthz', { tag, access: 'public', summary: 'The process is up' }, (c) => c.json({ status: 'ok' }));

  r.get('/readyz', { tag, access: 'public', summary: 'The database answers and is fully migrated' }, async (c) => {
    expected ??= Math.max(0, ...(await loadMigrations()).map((m) => m.id));
    let applied: number;
    try {
      const { rows } = await pool.query<{ id: number }>(MIGRATIONS_NEWEST_SQL);
      applied = rows[0]?.id ?? 0;
    } catch (err) {
      throw new HostrunError('database', 'the database is unavailable', { cause: err });
    }
    if (applied < expected) {
      throw new HostrunError('database', `the database is at migration ${applied} of ${expected}: run hostrun migrate`);
    }
    return c.json({ status: 'ready', migration: applied });
  });

  return r;
}
