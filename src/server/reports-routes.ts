import { Hono } from 'hono';
import { z } from 'zod';
import { csvEncode } from '../core/csv.ts';
import { NotFoundError } from '../core/errors.ts';
import { describeSchedule } from '../core/cron.ts';
import { timezoneProblem } from '../core/spec-schema.ts';
import { HOSTRUN_VERSION } from '../core/version.ts';
import { jobGetByName } from '../db/jobs.ts';
import { reportDashboard } from '../db/dashboard-report.ts';
import { EXPORT_COLUMNS, reportExport, reportJob, reportJobs, reportProject, reportStatus } from '../db/reports.ts';
import type { AppEnv } from './auth.ts';
import type { AppDeps } from './deps.ts';
import { limitParam, parseQuery } from './validation.ts';

// /api/v1/reports: the figures behind `hostrun cron report|reports|comprehensive-report|export`
// and `hostrun daemon status`, for the CLI and the UI alike. SQL and definitions: db/reports.ts.
//
//   GET /reports/status                  version, database, live workers, queued/running now
//   GET /reports/jobs                    one row per job
//   GET /reports/jobs/:name              one job: figures, last failures, trend per day
//   GET /reports/summary                 the project: busiest and most failing jobs, failure
//                                        causes, targets with most failures, queue wait
//   GET /reports/export?format=json|csv  run history, oldest first
//   GET /reports/dashboard               the web UI's first page in one answer: the last 24 h
//                                        by status and by hour, failing jobs, next scheduled
//                                        runs, recent runs, workers online

const DEFAULT_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

/** `?since=`: an ISO date or time, or `<n>d` (n days back); default 30 days back. */
const sinceParam = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw === '') return new Date(Date.now() - DEFAULT_WINDOW_DAYS * DAY_MS);
    const days = /^([0-9]{1,5})d$/.exec(raw);
    if (days) return new Date(Date.now() - Number(days[1]) * DAY_MS);
    const at = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw) ? Date.parse(raw) : NaN;
    if (Number.isNaN(at)) {
      ctx.addIssue({ code: 'custom', message: 'expected a date (2026-01-31), a time (2026-01-31T08:00:00Z) or a number of days (7d)' });
      return z.NEVER;
    }
    return new Date(at);
  });

const timezoneParam = z
  .string()
  .default('UTC')
  .superRefine((tz, ctx) => {
    const problem = timezoneProblem(tz);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const JobsQuery = z.strictObject({ since: sinceParam });
const JobQuery = z.strictObject({ since: sinceParam, timezone: timezoneParam, failures: limitParam(100, 5) });
const SummaryQuery = z.strictObject({ since: sinceParam, limit: limitParam(100, 5) });
const ExportQuery = z.strictObject({
  since: sinceParam,
  job: z.string().min(1).optional(),
  format: z.enum(['json', 'csv']).default('json'),
  limit: limitParam(100_000, 10_000),
});

export const DashboardQuery = z.strictObject({
  /** The window, in hours back from now (default 24). */
  hours: z.coerce.number().int().min(1).max(24 * 7).default(24),
  /** How many failing jobs, next runs and recent runs (default 8). */
  limit: limitParam(50, 8),
});

export function reportsRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { pool } = deps;

  app.get('/reports/status', async (c) => {
    const figures = await reportStatus(pool, c.get('principal').projectId);
    return c.json({ version: HOSTRUN_VERSION, ...figures });
  });

  app.get('/reports/jobs', async (c) => {
    const q = parseQuery(c, JobsQuery);
    return c.json({ since: q.since, jobs: await reportJobs(pool, { projectId: c.get('principal').projectId, since: q.since }) });
  });

  app.get('/reports/jobs/:name', async (c) => {
    const { projectId } = c.get('principal');
    const name = c.req.param('name');
    const q = parseQuery(c, JobQuery);
    const report = await reportJob(pool, { projectId, since: q.since, jobName: name, timezone: q.timezone, failures: q.failures });
    // A deleted job still has a report while it has history; a name with neither is a typo.
    if (report.summary.runs === 0 && !(await jobGetByName(pool, projectId, name))) throw new NotFoundError(`job "${name}"`);
    return c.json(report);
  });

  app.get('/reports/summary', async (c) => {
    const q = parseQuery(c, SummaryQuery);
    return c.json(await reportProject(pool, { projectId: c.get('principal').projectId, since: q.since, limit: q.limit }));
  });

  app.get('/reports/export', async (c) => {
    const q = parseQuery(c, ExportQuery);
    const result = await reportExport(pool, {
      projectId: c.get('principal').projectId,
      since: q.since,
      limit: q.limit,
      ...(q.job ? { jobName: q.job } : {}),
    });
    if (q.format === 'json') return c.json({ since: q.since, ...result });
    c.header('content-type', 'text/csv; charset=utf-8');
    c.header('content-disposition', 'attachment; filename="hostrun-runs.csv"');
    // CSV has no place for "there is more": a header says so instead.
    c.header('x-hostrun-truncated', String(result.truncated));
    return c.body(csvEncode(EXPORT_COLUMNS, result.runs));
  });

  app.get('/reports/dashboard', async (c) => {
    const q = parseQuery(c, DashboardQuery);
    const since = new Date(Date.now() - q.hours * 3_600_000);
    const figures = await reportDashboard(pool, { projectId: c.get('principal').projectId, since, limit: q.limit });
    const finished = figures.by_status.succeeded + figures.by_status.failed + figures.by_status.timed_out;
    return c.json({
      since,
      ...figures,
      success_rate: finished === 0 ? null : figures.by_status.succeeded / finished,
      next_runs: figures.next_runs.map((n) => ({
        job_name: n.job_name,
        schedule_id: n.schedule_id,
        next_fire_at: n.next_fire_at,
        description: describeSchedule({ cron: n.cron, everySeconds: n.every_seconds, timezone: n.timezone }),
      })),
    });
  });

  return app;
}
