import type { Operation } from './operations.ts';
import { DashboardQuery } from './reports-routes.ts';

// Operations of route modules written as plain Hono apps rather than with `Routes`: their
// access rules and documentation live here, next to nothing else, so that every route the API
// serves has exactly one rule (accessControl refuses a route without one).

/** reports-routes.ts, mounted at /api/v1. */
export const REPORTS_OPERATIONS: readonly Operation[] = [
  { method: 'GET', path: '/reports/status', tag: 'reports', access: 'viewer', summary: 'Version, database, live workers, queued and running runs' },
  { method: 'GET', path: '/reports/jobs', tag: 'reports', access: 'viewer', summary: 'Figures per job (?since=)' },
  { method: 'GET', path: '/reports/jobs/:name', tag: 'reports', access: 'viewer', summary: 'One job: figures, last failures, trend per day' },
  { method: 'GET', path: '/reports/summary', tag: 'reports', access: 'viewer', summary: 'The project: busiest and most failing jobs, failure causes, queue wait' },
  { method: 'GET', path: '/reports/dashboard', tag: 'reports', access: 'viewer', summary: 'The dashboard in one answer: last 24 h by status and hour, failing jobs, next runs, recent runs, workers online', query: DashboardQuery },
  { method: 'GET', path: '/reports/export', tag: 'reports', access: 'viewer', summary: 'Run history, oldest first (?format=json|csv)', produces: 'text/csv' },
];
