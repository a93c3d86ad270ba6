import { useQuery } from '@tanstack/react-query';
import { api } from './client.ts';
import type { Role, RunStatus, RunTrigger } from './types.ts';

// The shapes and queries of the admin pages: dashboard, hosts, secrets, workers, members and
// tokens, audit log. Query keys start with the resource, so the live connection refreshes the
// ones that depend on runs ('dashboard', 'workers') after every run event.

export interface Dashboard {
  since: string;
  by_status: Record<RunStatus, number>;
  hours: { hour: string; succeeded: number; failed: number; other: number }[];
  success_rate: number | null;
  failing_jobs: { job_name: string; failed: number; runs: number; last_failed_run_id: number; last_failed_at: string; last_status: RunStatus }[];
  next_runs: { job_name: string; schedule_id: string; next_fire_at: string; description: string }[];
  recent_runs: { id: number; job_name: string; status: RunStatus; trigger: RunTrigger; target: string; created_at: string; started_at: string | null; finished_at: string | null }[];
  jobs: number;
  workers_online: number;
}

export interface Host {
  name: string;
  address: string;
  port: number;
  username: string;
  os: 'linux' | 'windows';
  shell: string | null;
  labels: string[];
  key_secret: string | null;
  passphrase_secret: string | null;
  password_secret: string | null;
  fingerprint: string | null;
  trust_on_first_use: boolean;
  created_at: string;
  updated_at: string;
  last_test?: { run_id: number; status: RunStatus; at: string; error: string | null } | null;
}

export interface HostInput {
  address: string;
  port?: number;
  username: string;
  os?: 'linux' | 'windows';
  shell?: string | null;
  labels?: string[];
  key_secret?: string | null;
  passphrase_secret?: string | null;
  password_secret?: string | null;
}

export interface HostKeyScan {
  fingerprint: string;
  algorithm: string;
  pinned: string | null;
  matches_pinned: boolean | null;
}

export interface SecretMeta {
  name: string;
  created_at: string;
  updated_at: string;
}

export interface Worker {
  id: string;
  kind: 'worker' | 'agent';
  hostname: string;
  pid: number | null;
  labels: string[];
  concurrency: number;
  version: string | null;
  started_at: string;
  last_heartbeat_at: string;
  stopped_at: string | null;
  active_runs: number;
}

export interface Member {
  user_id: string;
  email: string;
  name: string | null;
  role: Role;
  created_at: string;
}

export interface ApiToken {
  id: string;
  name: string;
  role?: Role | null;
  prefix?: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at?: string | null;
  [key: string]: unknown;
}

export interface CreatedToken {
  id: string;
  name: string;
  token: string;
  role?: Role;
  expires_at: string | null;
}

export interface AuditEntry {
  id: number;
  actor: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  at: string;
  ip: string | null;
  details: Record<string, unknown> | null;
}

export const ROLES: readonly Role[] = ['viewer', 'developer', 'admin', 'owner'];

export function useDashboard() {
  return useQuery({ queryKey: ['dashboard'], queryFn: ({ signal }) => api.get<Dashboard>('/reports/dashboard', undefined, signal), refetchInterval: 60_000 });
}

export function useHosts() {
  return useQuery({ queryKey: ['hosts'], queryFn: ({ signal }) => api.get<{ hosts: Host[] }>('/hosts', undefined, signal).then((r) => r.hosts) });
}

export function useSecrets(enabled = true) {
  return useQuery({ queryKey: ['secrets'], enabled, queryFn: ({ signal }) => api.get<{ secrets: SecretMeta[] }>('/secrets', undefined, signal).then((r) => r.secrets) });
}

export function useWorkers() {
  return useQuery({
    queryKey: ['workers'],
    queryFn: ({ signal }) => api.get<{ workers: Worker[] }>('/workers', { recent: 86_400 }, signal).then((r) => r.workers),
    // Heartbeats are not run events: look again now and then so "last seen" stays true.
    refetchInterval: 15_000,
  });
}

export function useMembers() {
  return useQuery({ queryKey: ['members'], queryFn: ({ signal }) => api.get<{ members: Member[] }>('/members', undefined, signal).then((r) => r.members) });
}

export function useProjectTokens(enabled: boolean) {
  return useQuery({ queryKey: ['tokens'], enabled, queryFn: ({ signal }) => api.get<{ tokens: ApiToken[] }>('/tokens', undefined, signal).then((r) => r.tokens) });
}

export function usePersonalTokens(enabled: boolean) {
  return useQuery({ queryKey: ['me-tokens'], enabled, queryFn: ({ signal }) => api.get<{ tokens: ApiToken[] }>('/me/tokens', undefined, signal).then((r) => r.tokens) });
}
