import { HostrunError, NotFoundError } from '../core/errors.ts';
import { TERMINAL_STATUSES } from '../core/types.ts';
import { Transport, type TransportOptions } from './transport.ts';
import type {
  ApplyResult,
  ExportedRun,
  Host,
  HostInput,
  SecretMeta,
  Job,
  JobDetail,
  JobFigures,
  JobReportData,
  JobSummary,
  LogLine,
  ProjectReportData,
  Run,
  RunDetail,
  RunEnd,
  RunEvent,
  RunsFilter,
  RunsPage,
  Schedule,
  StatusReport,
} from './types.ts';

// The typed client of the Hostrun HTTP API. The `hostrun` CLI is built on it, so the two
// cannot drift apart:
//
//   const client = new HostrunClient({ url: 'http://127.0.0.1:8080', token });
//   const run = await client.jobs.run('backup', { inputs: { target: '/srv' } });
//   for await (const line of client.runs.stream(run.id)) console.log(line.text);
//   const done = await client.runs.wait(run.id);
//
// Failures are HostrunErrors with a stable `code` (not_found, invalid_input, unavailable, ...).
// `request(method, path, body)` reaches any endpoint the typed methods do not cover yet.

export type HostrunClientOptions = TransportOptions;

const enc = encodeURIComponent;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How long `runs.stream` keeps trying to resume a stream the server dropped (a restart). */
const RESUME_FOR_MS = 60_000;

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

export class HostrunClient {
  readonly jobs: JobsApi;
  readonly runs: RunsApi;
  readonly schedules: SchedulesApi;
  readonly hosts: HostsApi;
  readonly secrets: SecretsApi;
  readonly reports: ReportsApi;
  private readonly transport: Transport;

  constructor(options: HostrunClientOptions) {
    this.transport = new Transport(options);
    this.jobs = new JobsApi(this.transport, this);
    this.runs = new RunsApi(this.transport);
    this.schedules = new SchedulesApi(this.transport);
    this.hosts = new HostsApi(this.transport);
    this.secrets = new SecretsApi(this.transport);
    this.reports = new ReportsApi(this.transport);
  }

  get baseUrl(): string {
    return this.transport.baseUrl;
  }

  /** Any API call: `client.request('GET', '/api/v1/...')`. Errors as HostrunErrors. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return this.transport.request<T>(method, path, body);
  }

  /** Shorthands of `request` for the common verbs. */
  get<T = unknown>(path: string): Promise<T> {
    return this.transport.request<T>('GET', path);
  }

  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.transport.request<T>('POST', path, body);
  }

  delete<T = unknown>(path: string): Promise<T> {
    return this.transport.request<T>('DELETE', path);
  }

  /** /readyz: the server answers and its database has every migration. */
  ready(): Promise<{ status: 'ready'; migration: number }> {
    return this.transport.request('GET', '/readyz');
  }
}

export class JobsApi {
  constructor(
    private readonly t: Transport,
    private readonly client: HostrunClient,
  ) {}

  list(): Promise<JobSummary[]> {
    return this.t.request<{ jobs: JobSummary[] }>('GET', '/api/v1/jobs').then((r) => r.jobs);
  }

  get(name: string): Promise<JobDetail> {
    return this.t.request('GET', `/api/v1/jobs/${enc(name)}`);
  }

  /** The job's name for a name or a job id (uuid), as `daemon job info <id|name>` takes either. */
  async resolveName(idOrName: string): Promise<string> {
    if (!UUID.test(idOrName)) return idOrName;
    const match = (await this.list()).find((j) => j.id.toLowerCase() === idOrName.toLowerCase());
    if (!match) throw new NotFoundError(`job ${idOrName}`);
    return match.name;
  }

  /**
   * Creates the job or writes a new version: `source` is YAML or JSON text (as `job apply -f`
   * sends it), or pass a spec object.
   */
  apply(spec: string | Record<string, unknown>, format: 'yaml' | 'json' = 'yaml'): Promise<ApplyResult> {
    return this.t.request('POST', '/api/v1/jobs', typeof spec === 'string' ? { source: spec, format } : spec);
  }

  delete(name: string): Promise<{ deleted: true; name: string }> {
    return this.t.request('DELETE', `/api/v1/jobs/${enc(name)}`);
  }

  enable(name: string): Promise<Job> {
    return this.t.request('POST', `/api/v1/jobs/${enc(name)}/enable`);
  }

  disable(name: string): Promise<Job> {
    return this.t.request('POST', `/api/v1/jobs/${enc(name)}/disable`);
  }

  /** Run now; `trigger` defaults to `api` (the CLI says `manual`). */
  run(name: string, options: { inputs?: Record<string, unknown>; priority?: number; trigger?: 'manual' | 'api' } = {}): Promise<Run> {
    return this.t.request('POST', `/api/v1/jobs/${enc(name)}/runs`, {
      inputs: options.inputs ?? {},
      ...(options.trigger ? { trigger: options.trigger } : {}),
      ...(options.priority === undefined ? {} : { priority: options.priority }),
    });
  }

  /** Runs and waits: the finished run. */
  async runAndWait(name: string, options: Parameters<JobsApi['run']>[1] & WaitOptions = {}): Promise<RunDetail> {
    const run = await this.run(name, options);
    return this.client.runs.wait(run.id, options);
  }
}

export interface WaitOptions {
  /** Give up (a HostrunError `unavailable`) after this long; default: wait for ever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with the run at every poll, e.g. to show its status while waiting. */
  onPoll?: (run: RunDetail) => void;
}

export class RunsApi {
  constructor(private readonly t: Transport) {}

  list(filter: RunsFilter = {}): Promise<RunsPage> {
    const status = Array.isArray(filter.status) ? filter.status.join(',') : filter.status;
    return this.t.request('GET', `/api/v1/runs${query({ job: filter.job, status, trigger: filter.trigger, limit: filter.limit, cursor: filter.cursor })}`);
  }

  get(id: number): Promise<RunDetail> {
    return this.t.request('GET', `/api/v1/runs/${id}`);
  }

  /** One page of stored output: lines with seq above `after`. */
  logs(id: number, options: { after?: number; limit?: number } = {}): Promise<{ run_id: number; status: Run['status']; lines: LogLine[]; next_after: number }> {
    return this.t.request('GET', `/api/v1/runs/${id}/logs${query({ after: options.after, limit: options.limit })}`);
  }

  events(id: number, options: { after?: number; limit?: number } = {}): Promise<{ run_id: number; events: RunEvent[] }> {
    return this.t.request('GET', `/api/v1/runs/${id}/events${query({ after: options.after, limit: options.limit })}`);
  }

  /** Asks for a cancel: a queued run is canceled at once, a running one when its worker stops it. */
  cancel(id: number): Promise<Run> {
    return this.t.request('POST', `/api/v1/runs/${id}/cancel`);
  }

  /** Polls until the run is finished (backing off from 200 ms to 2 s); the finished run. */
  async wait(id: number, options: WaitOptions = {}): Promise<RunDetail> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (let delay = 200; ; delay = Math.min(delay * 1.5, 2000)) {
      const run = await this.get(id);
      options.onPoll?.(run);
      if (TERMINAL_STATUSES.includes(run.status)) return run;
      if (Date.now() + delay > deadline) throw new HostrunError('unavailable', `run ${id} still ${run.status} after ${options.timeoutMs} ms`);
      await sleep(delay, options.signal);
    }
  }

  /**
   * The run's output, live (SSE `GET /runs/:id/logs/stream`): yields every line after `after`
   * and returns how the run ended. A stream the server drops once connected (a restart) is
   * resumed from the last line seen for up to a minute; an unreachable server fails at once.
   */
  async *stream(id: number, options: { after?: number; signal?: AbortSignal } = {}): AsyncGenerator<LogLine, RunEnd, void> {
    let after = options.after ?? 0;
    let connected = false;
    let lostAt: number | null = null;
    for (;;) {
      try {
        const events = this.t.events(`/api/v1/runs/${id}/logs/stream?after=${after}`, options.signal ? { signal: options.signal } : {});
        for await (const ev of events) {
          connected = true;
          lostAt = null;
          if (ev.event === 'message') {
            const line = JSON.parse(ev.data) as LogLine;
            after = line.seq;
            yield line;
          } else if (ev.event === 'end') {
            return JSON.parse(ev.data) as RunEnd;
          } else if (ev.event === 'error') {
            throw this.t.errorFromBody(500, JSON.parse(ev.data));
          }
        }
      } catch (err) {
        if (!connected || !(err instanceof HostrunError) || err.code !== 'unavailable' || options.signal?.aborted) throw err;
      }
      // The stream ended without `end`: the server went away. Resume after a pause, for a while.
      lostAt ??= Date.now();
      if (Date.now() - lostAt > RESUME_FOR_MS) {
        throw new HostrunError('unavailable', `lost the Hostrun server at ${this.t.baseUrl} while following run ${id}`);
      }
      await sleep(1000, options.signal);
    }
  }
}

export class SchedulesApi {
  constructor(private readonly t: Transport) {}

  list(options: { job?: string } = {}): Promise<Schedule[]> {
    return this.t.request<{ schedules: Schedule[] }>('GET', `/api/v1/schedules${query({ job: options.job })}`).then((r) => r.schedules);
  }

  pause(id: string): Promise<Schedule> {
    return this.t.request('POST', `/api/v1/schedules/${enc(id)}/disable`);
  }

  resume(id: string): Promise<Schedule> {
    return this.t.request('POST', `/api/v1/schedules/${enc(id)}/enable`);
  }
}

/** SSH hosts (`/api/v1/hosts`). */
export class HostsApi {
  constructor(private readonly t: Transport) {}

  list(): Promise<Host[]> {
    return this.t.request<{ hosts: Host[] }>('GET', '/api/v1/hosts').then((r) => r.hosts);
  }

  get(name: string): Promise<Host> {
    return this.t.request<{ host: Host }>('GET', `/api/v1/hosts/${enc(name)}`).then((r) => r.host);
  }

  /** Adds the host, or replaces its definition (a changed address or port drops the pinned key). */
  put(name: string, host: HostInput): Promise<{ host: Host; created: boolean }> {
    return this.t.request('PUT', `/api/v1/hosts/${enc(name)}`, host);
  }

  delete(name: string): Promise<unknown> {
    return this.t.request('DELETE', `/api/v1/hosts/${enc(name)}`);
  }

  /** Queues a test run (connect, pin the key if new, `whoami`); wait for it with runs.wait. */
  test(name: string): Promise<{ run_id: number }> {
    return this.t.request('POST', `/api/v1/hosts/${enc(name)}/test`);
  }
}

/** Write-only secrets (`/api/v1/secrets`): names come back, values never do. */
export class SecretsApi {
  constructor(private readonly t: Transport) {}

  list(): Promise<SecretMeta[]> {
    return this.t.request<{ secrets: SecretMeta[] }>('GET', '/api/v1/secrets').then((r) => r.secrets);
  }

  set(name: string, value: string): Promise<{ name: string; created: boolean }> {
    return this.t.request('PUT', `/api/v1/secrets/${enc(name)}`, { value });
  }

  delete(name: string): Promise<unknown> {
    return this.t.request('DELETE', `/api/v1/secrets/${enc(name)}`);
  }
}

/** `since`: an ISO date or time, or `<n>d`; the server's default is 30 days back. */
export interface ReportWindowOptions {
  since?: string;
}

export class ReportsApi {
  constructor(private readonly t: Transport) {}

  /** Version, database, live workers, queued/claimed/running counts. */
  status(): Promise<StatusReport> {
    return this.t.request('GET', '/api/v1/reports/status');
  }

  jobs(options: ReportWindowOptions = {}): Promise<JobFigures[]> {
    return this.t.request<{ jobs: JobFigures[] }>('GET', `/api/v1/reports/jobs${query({ since: options.since })}`).then((r) => r.jobs);
  }

  job(name: string, options: ReportWindowOptions & { timezone?: string; failures?: number } = {}): Promise<JobReportData> {
    return this.t.request('GET', `/api/v1/reports/jobs/${enc(name)}${query({ since: options.since, timezone: options.timezone, failures: options.failures })}`);
  }

  summary(options: ReportWindowOptions & { limit?: number } = {}): Promise<ProjectReportData> {
    return this.t.request('GET', `/api/v1/reports/summary${query({ since: options.since, limit: options.limit })}`);
  }

  export(options: ReportWindowOptions & { job?: string; limit?: number }): Promise<{ since: string; runs: ExportedRun[]; truncated: boolean }> {
    return this.t.request('GET', `/api/v1/reports/export${query({ since: options.since, job: options.job, limit: options.limit, format: 'json' })}`);
  }

  /** The same history as CSV text (RFC 4180), as the server writes it. */
  async exportCsv(options: ReportWindowOptions & { job?: string; limit?: number }): Promise<{ csv: string; truncated: boolean }> {
    const res = await this.t.text('GET', `/api/v1/reports/export${query({ since: options.since, job: options.job, limit: options.limit, format: 'csv' })}`);
    return { csv: res.body, truncated: res.headers.get('x-hostrun-truncated') === 'true' };
  }
}
