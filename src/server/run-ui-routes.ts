import { z } from 'zod';
import { runLogsTail } from '../db/run-log-tail.ts';
import type { AppDeps } from './deps.ts';
import { logDownloadResponse } from './log-download.ts';
import { Routes } from './operations.ts';
import { runOr404 } from './runs-routes.ts';
import { limitParam, parseQuery } from './validation.ts';

// What the web UI's run page reads beyond runs-routes.ts:
//   GET /runs/:id/logs/tail                         the newest rows of a log, to show a long log
//                                                   without reading it from the start, then stream on
//   GET /projects/:slug/runs/:id/logs/download      the download with the project in the path, so a
//                                                   plain link (cookie only, no project header)
//                                                   works in every project, not just `default`

const TailQuery = z.strictObject({
  /** Most rows (a row holds the lines one stream printed together). */
  limit: limitParam(5000, 1000),
  /** Most characters of text in all; the newest rows win. */
  max_chars: z.coerce.number().int().min(1).max(16 * 1024 * 1024).default(2 * 1024 * 1024),
});

export function runUiRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool } = deps;
  const tag = 'runs';

  r.get('/runs/:id/logs/tail', { tag, access: 'viewer', summary: "The newest rows of a run's log, oldest first; `earlier` says whether rows before them exist", query: TailQuery }, async (c) => {
    const run = await runOr404(pool, c.get('principal').projectId, c.req.param('id'));
    const q = parseQuery(c, TailQuery);
    const tail = await runLogsTail(pool, run.id, q.limit, q.max_chars);
    // Status is read before the rows: a finished status means the rows returned are all there is.
    return c.json({ run_id: run.id, status: run.status, lines: tail.lines, earlier: tail.earlier, next_after: tail.lines.at(-1)?.seq ?? 0 });
  });

  r.get(
    '/projects/:slug/runs/:id/logs/download',
    { tag, access: 'viewer', projectParam: 'slug', summary: "A run's whole log as a text file, the project named in the path (for plain links)", produces: 'text/plain' },
    async (c) => {
      const run = await runOr404(pool, c.get('principal').projectId, c.req.param('id'));
      return logDownloadResponse(pool, run.id);
    },
  );

  return r;
}
