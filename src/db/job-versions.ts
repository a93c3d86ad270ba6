import type { JobSpec } from '../core/types.ts';
import type { Queryable } from './pool.ts';

// The history of a job's definition: every version ever applied (jobs.ts writes them).

export interface JobVersionItem {
  version: number;
  created_at: Date;
  created_by: string | null;
}

export interface JobVersionRow extends JobVersionItem {
  spec: JobSpec;
  source: string;
}

// name: jobVersionsList
// $1 job id. Newest first.
const JOB_VERSIONS_LIST_SQL = `
SELECT version, created_at, created_by FROM hostrun.job_versions WHERE job_id = $1 ORDER BY version DESC`;

export async function jobVersionsList(db: Queryable, jobId: string): Promise<JobVersionItem[]> {
  const { rows } = await db.query<JobVersionItem>(JOB_VERSIONS_LIST_SQL, [jobId]);
  return rows;
}

// name: jobVersionGet
// $1 job id, $2 version.
const JOB_VERSION_GET_SQL = `
SELECT version, created_at, created_by, spec, source FROM hostrun.job_versions WHERE job_id = $1 AND version = $2`;

export async function jobVersionGet(db: Queryable, jobId: string, version: number): Promise<JobVersionRow | null> {
  const { rows } = await db.query<JobVersionRow>(JOB_VERSION_GET_SQL, [jobId, version]);
  return rows[0] ?? null;
}
