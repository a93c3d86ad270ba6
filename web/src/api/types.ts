// The shapes the UI reads from the API (see /api/v1/openapi.json). Only the fields the UI
// uses are named; pages extend these where they need more.

export type RunStatus = 'queued' | 'claimed' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'canceled';
export type RunTrigger = 'manual' | 'schedule' | 'webhook' | 'api' | 'retry' | 'rerun' | 'host_test';
export type Role = 'viewer' | 'developer' | 'admin' | 'owner';

export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timed_out', 'canceled'];

export interface User {
  id: string;
  email: string;
  name: string | null;
  is_superadmin: boolean;
}

export interface ProjectRef {
  id: string;
  slug: string;
  name?: string;
  role: Role;
}

export interface Me {
  kind: 'token' | 'session' | 'supabase';
  user: User | null;
  is_superadmin: boolean;
  projects: ProjectRef[];
  csrf_token?: string;
}

export interface Run {
  id: number;
  job_name: string;
  job_version: number;
  parent_run_id: number | null;
  trigger: RunTrigger;
  inputs: Record<string, unknown>;
  target: string;
  status: RunStatus;
  priority: number;
  attempt: number;
  max_attempts: number;
  worker_id: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  error: string | null;
}

/** One `event: run` of GET /events: a run changed status. */
export interface RunStatusEvent {
  id: number;
  run_id: number;
  job_name: string;
  attempt: number;
  from_status: RunStatus | null;
  to_status: RunStatus;
  worker_id: string | null;
  at: string;
  message: string | null;
}

const RANK: Record<Role, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

export function roleAtLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[needed];
}
