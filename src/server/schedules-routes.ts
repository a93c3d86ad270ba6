import { z } from 'zod';
import { NotFoundError } from '../core/errors.ts';
import { scheduleGet, scheduleNextFireTimes, scheduleSetEnabled, schedulesList } from '../db/schedules.ts';
import type { AppDeps } from './deps.ts';
import { jobByNameOr404 } from './jobs-routes.ts';
import { Routes } from './operations.ts';
import { limitParam, parseQuery } from './validation.ts';

// /api/v1/schedules: every schedule of the project (or of one job), one schedule with its next
// fire times, and pausing (disable) or resuming (enable) one.

const SchedulesQuery = z.strictObject({ job: z.string().min(1).optional() });
const ScheduleQuery = z.strictObject({ next: limitParam(100, 5) });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function schedulesRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool } = deps;
  const tag = 'schedules';

  r.get('/schedules', { tag, access: 'viewer', summary: 'List schedules', query: SchedulesQuery }, async (c) => {
    const { projectId } = c.get('principal');
    const q = parseQuery(c, SchedulesQuery);
    const jobId = q.job ? (await jobByNameOr404(deps, projectId, q.job)).id : undefined;
    const schedules = await schedulesList(pool, { projectId, ...(jobId ? { jobId } : {}) });
    return c.json({ schedules });
  });

  r.get('/schedules/:id', { tag, access: 'viewer', summary: 'One schedule with its next N fire times (?next=5)', query: ScheduleQuery }, async (c) => {
    const id = c.req.param('id');
    const q = parseQuery(c, ScheduleQuery);
    const schedule = UUID.test(id) ? await scheduleGet(pool, c.get('principal').projectId, id) : null;
    if (!schedule) throw new NotFoundError(`schedule ${id}`);
    const next = schedule.job_enabled ? scheduleNextFireTimes(schedule, q.next) : [];
    return c.json({ ...schedule, next_fire_times: next });
  });

  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    r.post(`/schedules/:id/${action}`, { tag, access: 'developer', does: `${enabled ? 'resume' : 'pause'} schedules`, audit: `schedule.${action}`, summary: enabled ? 'Resume a schedule (from now on)' : 'Pause a schedule' }, async (c) => {
      const { projectId } = c.get('principal');
      const id = c.req.param('id');
      // scheduleSetEnabled is keyed by id alone: check the schedule is this project's first.
      if (!UUID.test(id) || !(await scheduleGet(pool, projectId, id))) throw new NotFoundError(`schedule ${id}`);
      const schedule = await scheduleSetEnabled(pool, id, enabled, new Date());
      if (!schedule) throw new NotFoundError(`schedule ${id}`);
      return c.json(schedule);
    });
  }

  return r;
}
