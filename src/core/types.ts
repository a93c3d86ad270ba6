// Glossary
//
// job       A named definition of work: inputs, a target (`runs-on`) and ordered steps.
//           Stored in `jobs` with every version kept in `job_versions`.
// step      One unit inside a job: a shell script (`run:`) or a built-in (`uses: noop`).
// run       One execution of one job version with concrete inputs. The `runs` table is
//           both the queue (status `queued`) and the history (terminal statuses).
// attempt   A run is claimed once per attempt; a lost lease or a retried failure
//           queues the same run again with attempt + 1. Writes are fenced by attempt.
// schedule  A cron expression (or fixed interval) with a time zone that turns fire
//           times into runs, exactly once per (schedule, fire time).
// host      A machine reached over SSH (issue 3); `local` means the worker's own machine.
// worker    A process that claims runs from Postgres and executes them.
// agent     A worker on a machine behind NAT that talks to the HTTP API instead of
//           Postgres (later issue).
// executor  The part of a worker that runs a step on one kind of target (local, ssh, ...).
// lease     How long a claimed run belongs to a worker without a heartbeat; when it
//           expires the reaper re-queues the run (or fails it as "worker lost").

export type RunStatus = 'queued' | 'claimed' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'canceled';
export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timed_out', 'canceled'];

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'canceled' | 'skipped';

export type RunTrigger = 'manual' | 'schedule' | 'webhook' | 'api' | 'retry' | 'rerun' | 'host_test';

export type InputType = 'string' | 'number' | 'boolean' | 'choice';
export type InputValue = string | number | boolean;

export interface InputSpec {
  type: InputType;
  description?: string;
  default?: InputValue;
  required: boolean;
  /** A regular expression (JavaScript syntax) the string form of the value must match. */
  pattern?: string;
  /** Allowed values when type is `choice`. */
  options?: string[];
}

export type Shell = 'bash' | 'sh' | 'pwsh' | 'powershell' | 'cmd';

export interface StepSpec {
  /** Stable id for `${{ steps.<id>.outputs.x }}`; defaults to `step-<n>` (1-based). */
  id: string;
  name: string;
  run?: string;
  /** Built-in step: `noop` (completes at once) or `sleep` (waits `with.ms` in-process). */
  uses?: 'noop' | 'sleep';
  with?: Record<string, string | number | boolean>;
  /** Exported environment for the step; values may hold `${{ }}` expressions. */
  env: Record<string, string>;
  if?: string;
  shell?: Shell;
  workingDirectory?: string;
  continueOnError: boolean;
  timeoutMinutes?: number;
}

export interface ScheduleSpec {
  /** Five- or six-field cron expression; exactly one of cron and every is set. */
  cron?: string;
  /** A fixed interval such as `30s`, `15m`, `1h`, anchored so it does not drift. */
  every?: string;
  timezone: string;
  inputs: Record<string, InputValue>;
  misfire: 'skip' | 'once' | 'all';
  enabled: boolean;
}

/** `runs-on`: `local`, a host name, or `{ labels: [...] }`. */
export type RunsOn = { kind: 'local' } | { kind: 'host'; name: string } | { kind: 'labels'; labels: string[] };

export interface JobSpec {
  name: string;
  description?: string;
  runsOn: RunsOn;
  /** Host connection details carried by the flat seed config (`host`, `username`, ...). */
  host?: { address: string; username?: string; sshKeySecret?: string; os?: 'linux' | 'windows'; port?: number };
  inputs: Record<string, InputSpec>;
  env: Record<string, string>;
  schedules: ScheduleSpec[];
  webhook: boolean;
  repository?: { url: string; ref?: string };
  timeoutMinutes?: number;
  retries: { max: number; backoff: 'exponential' | 'fixed'; delaySeconds: number };
  concurrency?: { group: string; max: number };
  /** With `runs-on: { labels }`: at most this many matching hosts run at once. */
  strategy?: { maxParallel: number };
  priority: number;
  shell?: Shell;
  workingDirectory?: string;
  steps: StepSpec[];
}
