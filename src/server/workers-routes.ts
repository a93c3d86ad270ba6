import { z } from 'zod';
import { workersList } from '../db/workers.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { parseQuery } from './validation.ts';

// /api/v1/workers: the workers and agents of the installation, as they last reported. They are
// shared by all projects and say nothing about any project's runs beyond a count.

const WorkersQuery = z.strictObject({
  /** Include workers silent or stopped for up to this many seconds (default one hour). */
  recent: z.coerce.number().int().min(1).max(30 * 86400).default(3600),
});

export function workersRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  r.get('/workers', { tag: 'workers', access: 'viewer', summary: 'Workers and agents seen recently', query: WorkersQuery }, async (c) => {
    const q = parseQuery(c, WorkersQuery);
    return c.json({ workers: await workersList(deps.pool, q.recent) });
  });
  return r;
}
