import { api } from './client.ts';
import type { Run, RunStatus, RunTrigger } from './types.ts';

// The runs API as the Runs pages use it: the list (keyset pages behind an opaque cursor), one
// run with its steps, its log (paged history; the live tail is an SSE stream, see
// components/run-log-stream.ts), cancel and re-run. Query keys start with 'runs', 'run' or
// 'run-steps' so the live connection refetches them after every run status change.

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'canceled' | 'skipped';

export interface RunStep {
  idx: number;
  attempt: number;
  step_id: string;
  name: string;
  status: StepStatus;
  exit_code: number | null;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
}

export interface RunDetail extends Run {
  labels?: string[];
  created_by: string | null;
  cancel_requested_at: string | null;
  claimed_at: string | null;
  steps?: RunStep[];
}

export interface LogRow {
  seq: number;
  attempt: number;
  step_idx: number | null;
  stream: 'stdout' | 'stderr' | 'system';
  at: string;
  /** One or more whole lines joined by \n. */
  text: string;
}

export interface RunFilters {
  job: string;
  status: string;
  trigger: string;
}

export const RUN_STATUS_FILTERS: { value: string; label: string }[] = [
  { value: '', label: 'Any status' },
  { value: 'queued,claimed,running', label: 'Active (queued or running)' },
  { value: 'queued', label: 'Queued' },
  { value: 'running', label: 'Running' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'failed', label: 'Failed' },
  { value: 'failed,timed_out', label: 'Failed or timed out' },
  { value: 'timed_out', label: 'Timed out' },
  { value: 'canceled', label: 'Canceled' },
];

export const RUN_TRIGGER_FILTERS: { value: '' | Exclude<RunTrigger, 'host_test'>; label: string }[] = [
  { value: '', label: 'Any trigger' },
  { value: 'manual', label: 'Manual' },
  { value: 'schedule', label: 'Schedule' },
  { value: 'webhook', label: 'Webhook' },
  { value: 'api', label: 'API' },
  { value: 'retry', label: 'Retry' },
  { value: 'rerun', label: 'Re-run' },
];

export const PAGE_SIZE = 50;

export interface RunsPageBody {
  runs: Run[];
  next_cursor: string | null;
}

export const runKeys = {
  list: (f: RunFilters) => ['runs', 'list', f] as const,
  lists: () => ['runs', 'list'] as const,
  one: (id: number) => ['run', id] as const,
  steps: (id: number) => ['run-steps', id] as const,
};

export function runsList(f: RunFilters, cursor: string | null, signal?: AbortSignal): Promise<RunsPageBody> {
  return api.get<RunsPageBody>('/runs', { job: f.job, status: f.status, trigger: f.trigger, cursor, limit: PAGE_SIZE }, signal);
}

export function runGet(id: number, signal?: AbortSignal): Promise<RunDetail> {
  return api.get<RunDetail>(`/runs/${id}`, undefined, signal);
}

export async function runSteps(id: number, signal?: AbortSignal): Promise<RunStep[]> {
  return (await api.get<{ steps: RunStep[] }>(`/runs/${id}/steps`, undefined, signal)).steps;
}

export const LOG_PAGE = 5000;

export function runLogs(id: number, after: number, signal?: AbortSignal): Promise<{ status: RunStatus; lines: LogRow[]; next_after: number }> {
  return api.get(`/runs/${id}/logs`, { after, limit: LOG_PAGE }, signal);
}

/** The newest rows of a log (GET /runs/:id/logs/tail): `earlier` says whether rows before them exist. */
export function runLogsTail(id: number, signal?: AbortSignal): Promise<{ status: RunStatus; lines: LogRow[]; earlier: boolean; next_after: number }> {
  return api.get(`/runs/${id}/logs/tail`, { limit: LOG_PAGE }, signal);
}

/** Rows of a log containing `q` (case-insensitive), from its start. */
export function runLogsSearch(id: number, q: string, signal?: AbortSignal): Promise<{ lines: LogRow[] }> {
  return api.get(`/runs/${id}/logs`, { q, limit: LOG_PAGE }, signal);
}

export function runCancel(id: number): Promise<RunDetail> {
  return api.post<RunDetail>(`/runs/${id}/cancel`);
}

/** Same inputs: the API re-runs with the original run's inputs when none are given. */
export function runRerun(id: number): Promise<Run> {
  return api.post<Run>(`/runs/${id}/rerun`, {});
}

/**
 * A plain link carries the session cookie but not the project header, which the API then takes
 * to be `default`: in any other project the link names the project in its path.
 */
export function logDownloadUrl(id: number, project: string): string {
  return project === 'default' ? `/api/v1/runs/${id}/logs/download` : `/api/v1/projects/${encodeURIComponent(project)}/runs/${id}/logs/download`;
}

/** Who a project member is, for "started by". */
export interface MemberRef {
  user_id: string;
  email: string;
  name: string | null;
}

export async function membersList(signal?: AbortSignal): Promise<MemberRef[]> {
  return (await api.get<{ members: MemberRef[] }>('/members', undefined, signal)).members;
}

export async function jobNames(signal?: AbortSignal): Promise<string[]> {
  return (await api.get<{ jobs: { name: string }[] }>('/jobs', undefined, signal)).jobs.map((j) => j.name);
}

export const isActive = (s: RunStatus) => s === 'queued' || s === 'claimed' || s === 'running';
