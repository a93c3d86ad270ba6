import type { RunStatus, RunTrigger } from '../core/types.ts';
import type { JobListItem, JobRow } from '../db/jobs.ts';
import type {
  ExportRow,
  JobFiguresRow,
  JobReport,
  ProjectReport,
  StatusFigures,
} from '../db/reports.ts';
import type { RunEventRow, RunLogRow, RunRow, RunStepRow } from '../db/runs.ts';
import type { ScheduleRow } from '../db/schedules.ts';

// What the API sends, as the client hands it over. The row types are the server's own (type
// imports only: nothing of the database layer is loaded), seen through JSON by Wire<>.

/** A row as it arrives over JSON: Date fields are ISO strings. */
export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type Job = Wire<JobRow>;
export type JobSummary = Wire<JobListItem>;
export type Schedule = Wire<ScheduleRow>;
export type JobDetail = Job & { schedules: Schedule[] };
export interface ApplyResult {
  job: Job;
  created: boolean;
  changed: boolean;
}

export type Run = Wire<RunRow>;
export type RunStep = Wire<RunStepRow>;
export type RunDetail = Run & { steps: RunStep[] };
export type LogLine = Wire<RunLogRow>;
export type RunEvent = Wire<RunEventRow>;
export interface RunsPage {
  runs: Run[];
  next_cursor: string | null;
}
/** How a run ended, as the log stream's `end` event and a finished run both carry it. */
export interface RunEnd {
  status: RunStatus;
  exit_code: number | null;
  error: string | null;
}

export interface RunsFilter {
  job?: string;
  status?: RunStatus | RunStatus[];
  trigger?: RunTrigger;
  limit?: number;
  cursor?: string;
}

export type StatusReport = Wire<StatusFigures> & { version: string };
export type JobFigures = Wire<JobFiguresRow>;
export type JobReportData = Wire<JobReport>;
export type ProjectReportData = Wire<ProjectReport>;
export type ExportedRun = Wire<ExportRow>;

/** A host as the hosts API describes it (SSH targets); fields beyond these pass through. */
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
  /** The pinned host key, `SHA256:...`; null until pinned. */
  fingerprint: string | null;
  trust_on_first_use: boolean;
  created_at: string;
  updated_at: string;
}

export interface HostInput {
  address: string;
  port?: number;
  username: string;
  os?: 'linux' | 'windows';
  shell?: 'bash' | 'sh' | 'pwsh' | 'powershell' | 'cmd' | null;
  labels?: string[];
  key_secret?: string | null;
  passphrase_secret?: string | null;
  password_secret?: string | null;
  fingerprint?: string | null;
  trust_on_first_use?: boolean;
}

export interface SecretMeta {
  name: string;
  created_at: string;
  updated_at: string;
}
