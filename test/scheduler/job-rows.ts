// Jobs and schedules written straight into the database for scheduler tests: a job row as job
// apply would leave it, then its schedules through the real schedulesSyncForJob.

import type { JobSpec, ScheduleSpec } from '../../src/core/types.ts';
import { withTransaction, type Pool } from '../../src/db/pool.ts';
import { schedulesSyncForJob } from '../../src/db/schedules.ts';

export function scheduleSpec(fields: Partial<ScheduleSpec>): ScheduleSpec {
  return { timezone: 'UTC', inputs: {}, misfire: 'once', enabled: true, ...fields };
}

export function jobSpec(name: string, schedules: ScheduleSpec[], extra: Partial<JobSpec> = {}): JobSpec {
  return {
    name,
    runsOn: { kind: 'local' },
    inputs: {},
    env: {},
    schedules,
    webhook: false,
    retries: { max: 0, backoff: 'exponential', delaySeconds: 10 },
    priority: 0,
    steps: [{ id: 's1', name: 'noop', uses: 'noop', env: {}, continueOnError: false }],
    ...extra,
  };
}

export async function defaultProjectId(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(`SELECT id FROM hostrun.projects WHERE slug = 'default'`);
  return rows[0]!.id;
}

/**
 * Inserts a job row and syncs its schedules at `now`; returns the job id and the schedule ids
 * in spec order. `rawSpec` stores something other than `spec` in the jobs row (a broken spec).
 */
export async function jobInsert(
  pool: Pool,
  spec: JobSpec,
  now: Date,
  rawSpec: unknown = spec,
): Promise<{ jobId: string; scheduleIds: string[] }> {
  const projectId = await defaultProjectId(pool);
  return withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO hostrun.jobs (project_id, name, spec, source) VALUES ($1, $2, $3, $4) RETURNING id`,
      [projectId, spec.name, JSON.stringify(rawSpec), JSON.stringify(spec)],
    );
    const jobId = rows[0]!.id;
    await schedulesSyncForJob(tx, { projectId, jobId, schedules: spec.schedules, now });
    const schedules = await tx.query<{ id: string }>(`SELECT id FROM hostrun.schedules WHERE job_id = $1 ORDER BY spec_index`, [jobId]);
    return { jobId, scheduleIds: schedules.rows.map((r) => r.id) };
  });
}

/** A clock the test moves by hand. */
export class ManualClock {
  private t: number;
  constructor(start: Date) {
    this.t = start.getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  set(d: Date): void {
    this.t = d.getTime();
  }
  advance(ms: number): Date {
    this.t += ms;
    return this.now();
  }
}

/** Fire times of a schedule's runs, oldest first, as ISO strings. */
export async function fireTimesOf(pool: Pool, scheduleId: string): Promise<string[]> {
  const { rows } = await pool.query<{ fire_at: Date }>(`SELECT fire_at FROM hostrun.runs WHERE schedule_id = $1 ORDER BY fire_at`, [scheduleId]);
  return rows.map((r) => r.fire_at.toISOString());
}
