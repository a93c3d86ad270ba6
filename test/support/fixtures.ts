import pg from 'pg';
import type { Pool } from '../../src/db/pool.ts';
import { parseJobSpec, validateRunInputs } from '../../src/core/spec.ts';
import { jobApply } from '../../src/db/jobs.ts';
import { projectIdBySlug } from '../../src/db/projects.ts';
import { runsEnqueue } from '../../src/queue/enqueue.ts';
import type { JobSpec, RunStatus } from '../../src/core/types.ts';

export interface AppliedJob {
  projectId: string;
  job: { id: string; name: string; version: number; spec: JobSpec };
}

/** Parses YAML through the real spec parser and applies it through the real job apply. */
export async function applyJob(pool: Pool, yaml: string): Promise<AppliedJob> {
  const spec = parseJobSpec(yaml);
  const projectId = (await projectIdBySlug(pool, 'default'))!;
  const { job } = await jobApply(pool, { projectId, spec, source: yaml });
  return { projectId, job: { id: job.id, name: job.name, version: job.version, spec } };
}

export async function enqueueRuns(pool: Pool, applied: AppliedJob, count = 1, inputs: Record<string, unknown> = {}): Promise<number[]> {
  const validated = validateRunInputs(applied.job.spec, inputs);
  const reqs = Array.from({ length: count }, () => ({
    projectId: applied.projectId,
    job: applied.job,
    inputs: validated,
    trigger: 'api' as const,
  }));
  const ids: number[] = [];
  // Large batches go in slices so one statement's parameters stay reasonable.
  for (let i = 0; i < reqs.length; i += 5000) ids.push(...(await runsEnqueue(pool, reqs.slice(i, i + 5000))));
  return ids;
}

/**
 * Waits until `check` holds, re-checking whenever runs are queued or logs grow (NOTIFY
 * hostrun_queue, hostrun_logs) and every 50 ms otherwise: status changes are not notified
 * (migrations/0007_quiet_transitions.sql). Fails after `timeoutMs`.
 */
export async function waitFor<T>(url: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let wake: () => void = () => {};
  client.on('notification', () => wake());
  await client.query('LISTEN hostrun_queue; LISTEN hostrun_logs');
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const result = await check();
      if (result !== undefined && result !== false) return result;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    await client.end();
  }
}

export async function runStatus(pool: Pool, id: number): Promise<RunStatus> {
  const { rows } = await pool.query<{ status: RunStatus }>(`SELECT status FROM hostrun.runs WHERE id = $1`, [id]);
  return rows[0]!.status;
}

export async function waitForStatus(url: string, pool: Pool, id: number, statuses: RunStatus[], timeoutMs = 20_000): Promise<RunStatus> {
  return waitFor(url, async () => {
    const s = await runStatus(pool, id);
    return statuses.includes(s) ? s : undefined;
  }, timeoutMs, `run ${id} to be ${statuses.join('|')}`);
}

/** Waits until every run in `ids` has `status`. */
export async function waitForAll(url: string, pool: Pool, ids: number[], status: RunStatus, timeoutMs = 60_000): Promise<void> {
  await waitFor(url, async () => {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*) AS n FROM hostrun.runs WHERE id = ANY($1) AND status = $2`, [ids, status]);
    return rows[0]!.n === ids.length;
  }, timeoutMs, `${ids.length} runs to be ${status}`);
}

export async function runLogText(pool: Pool, id: number): Promise<string> {
  const { rows } = await pool.query<{ text: string }>(`SELECT text FROM hostrun.run_logs WHERE run_id = $1 ORDER BY seq`, [id]);
  return rows.map((r) => r.text).join('\n');
}
