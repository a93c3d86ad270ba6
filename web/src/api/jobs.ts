import { useQuery } from '@tanstack/react-query';
import { api, request } from './client.ts';
import type { Run, RunStatus } from './types.ts';

// The jobs API as the Jobs pages use it. Query keys start with 'jobs' or 'job' so the live
// connection refetches them after every run status change (the last run's chip, recent runs).

export type InputType = 'string' | 'number' | 'boolean' | 'choice';
export type InputValue = string | number | boolean;

export interface InputSpec {
  type: InputType;
  description?: string;
  default?: InputValue;
  required: boolean;
  pattern?: string;
  options?: string[];
}

export interface StepSpec {
  id: string;
  name: string;
  run?: string;
  uses?: string;
  if?: string;
}

export interface JobSpec {
  name: string;
  description?: string;
  runsOn: { kind: 'local' } | { kind: 'host'; name: string } | { kind: 'labels'; labels: string[] };
  host?: { address: string; username?: string; os?: string };
  inputs: Record<string, InputSpec>;
  steps: StepSpec[];
  webhook: boolean;
  timeoutMinutes?: number;
  retries: { max: number };
}

export interface ScheduleSummary {
  id: string;
  description: string;
  enabled: boolean;
  next_fire_at: string | null;
}

export interface JobListItem {
  id: string;
  name: string;
  description: string | null;
  version: number;
  enabled: boolean;
  updated_at: string;
  last_run: { id: number; status: RunStatus; created_at: string } | null;
  next_fire_at: string | null;
  schedules: ScheduleSummary[];
}

export interface JobSchedule extends ScheduleSummary {
  cron: string | null;
  every_seconds: number | null;
  timezone: string;
  inputs: Record<string, InputValue>;
  last_fire_at: string | null;
  next_fire_times: string[];
}

export interface Job {
  id: string;
  name: string;
  description: string | null;
  spec: JobSpec;
  source: string;
  version: number;
  enabled: boolean;
  webhook_id: string | null;
  created_at: string;
  updated_at: string;
  schedules: JobSchedule[];
}

export interface JobVersionItem {
  version: number;
  created_at: string;
  created_by: string | null;
}

export interface JobDiff {
  name: string;
  from: number;
  to: number;
  spec_changed: boolean;
  /** Unified diff text (`--- a`, `+++ b`, `@@ ... @@`, then ` `, `-`, `+` lines); empty when the sources are equal. */
  unified: string;
  added: number;
  removed: number;
}

export interface ValidationError {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export interface ValidateResult {
  valid: boolean;
  errors: ValidationError[];
  spec?: {
    name: string;
    description: string | null;
    runs_on: string;
    inputs: Record<string, InputSpec>;
    steps: { id: string; name: string }[];
    schedules: { description: string; next_fire_times: string[] }[];
  };
}

export interface ApplyResult {
  job: { name: string; version: number };
  created: boolean;
  changed: boolean;
}

export const jobPath = (name: string) => `/jobs/${encodeURIComponent(name)}`;

export function useJobs() {
  return useQuery({ queryKey: ['jobs'], queryFn: () => api.get<{ jobs: JobListItem[] }>('/jobs').then((r) => r.jobs) });
}

export function useJob(name: string) {
  return useQuery({ queryKey: ['job', name], queryFn: () => api.get<Job>(jobPath(name)) });
}

export function useJobVersions(name: string) {
  return useQuery({
    queryKey: ['job', name, 'versions'],
    queryFn: () => api.get<{ current: number; versions: JobVersionItem[] }>(`${jobPath(name)}/versions`),
  });
}

export function useJobDiff(name: string, from: number | null, to: number | null) {
  return useQuery({
    queryKey: ['job', name, 'diff', from, to],
    queryFn: () => api.get<JobDiff>(`${jobPath(name)}/diff`, { from: from!, to: to! }),
    enabled: from !== null && to !== null && from !== to,
  });
}

export function useJobRuns(name: string) {
  return useQuery({
    queryKey: ['runs', { job: name, limit: 20 }],
    queryFn: () => api.get<{ runs: Run[] }>('/runs', { job: name, limit: 20 }).then((r) => r.runs),
  });
}

/** A dry-run apply; the abort lets a newer keystroke cancel an older check. */
export function validateSpec(source: string, signal?: AbortSignal): Promise<ValidateResult> {
  return request<ValidateResult>('POST', '/jobs/validate', { body: { source }, ...(signal ? { signal } : {}) });
}

export function applyJob(source: string): Promise<ApplyResult> {
  return api.post<ApplyResult>('/jobs', { source });
}
