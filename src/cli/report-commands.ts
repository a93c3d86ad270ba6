import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { JobFigures, JobReportData, ProjectReportData } from '../client/types.ts';
import { HostrunError } from '../core/errors.ts';
import { apiClientFromEnv } from './api-client.ts';
import { parseIntOption } from './config.ts';
import { localTimezone } from './job-create-command.ts';
import { ago, millis, paint, percent, printFields, printHeading, printJson, printTable, statusText } from './output.ts';

// hostrun cron report <job> | reports | comprehensive-report | export --format json|csv
// The figures come from /api/v1/reports (SQL and definitions in src/db/reports.ts); this
// module only lays them out. Every command takes --json and --since (default 30 days).

type Figures = JobReportData['summary'];

const SINCE_HELP = 'from this date (2026-01-31) or this many days back (7d); default 30d';

export function registerReportCommands(cron: Command): void {
  cron
    .command('report <job>')
    .description("one job's runs, success rate, avg/p50/p95 duration, last failures and the trend per day")
    .option('--since <date>', SINCE_HELP)
    .option('--failures <n>', 'how many recent failures to show', '5')
    .option('--timezone <tz>', "time zone the days are cut in (default: this machine's)")
    .option('--json', 'print JSON')
    .action(async (idOrName: string, o: { since?: string; failures: string; timezone?: string; json?: boolean }) => {
      const client = apiClientFromEnv();
      const name = await client.jobs.resolveName(idOrName);
      const report = await client.reports.job(name, {
        ...(o.since ? { since: o.since } : {}),
        timezone: o.timezone ?? localTimezone(),
        failures: parseIntOption(o.failures, '--failures', 1, 100),
      });
      if (o.json) return printJson(report);
      printJobReport(report);
    });

  cron
    .command('reports')
    .description('every job on one line: runs, success rate, durations, last run')
    .option('--since <date>', SINCE_HELP)
    .option('--json', 'print JSON')
    .action(async (o: { since?: string; json?: boolean }) => {
      const jobs = await apiClientFromEnv().reports.jobs(o.since ? { since: o.since } : {});
      if (o.json) return printJson(jobs);
      printJobsFigures(jobs);
    });

  cron
    .command('comprehensive-report')
    .description('the whole project: totals, busiest and most failing jobs, failure causes, failing hosts, queue wait')
    .option('--since <date>', SINCE_HELP)
    .option('--limit <n>', 'rows per section', '5')
    .option('--json', 'print JSON')
    .action(async (o: { since?: string; limit: string; json?: boolean }) => {
      const report = await apiClientFromEnv().reports.summary({ ...(o.since ? { since: o.since } : {}), limit: parseIntOption(o.limit, '--limit', 1, 100) });
      if (o.json) return printJson(report);
      printProjectReport(report);
    });

  cron
    .command('export')
    .description('run history (oldest first) as JSON or CSV: id, job, status, trigger, target, times, duration, queue wait, exit code, error')
    .option('--format <format>', 'json or csv', 'json')
    .option('--since <date>', SINCE_HELP)
    .option('--job <name>', 'only this job')
    .option('--limit <n>', 'at most this many runs (1..100000)', '10000')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (o: { format: string; since?: string; job?: string; limit: string; output?: string }) => {
      if (o.format !== 'json' && o.format !== 'csv') throw new HostrunError('invalid_request', `--format must be json or csv, not "${o.format}"`);
      const client = apiClientFromEnv();
      const options = { ...(o.since ? { since: o.since } : {}), ...(o.job ? { job: o.job } : {}), limit: parseIntOption(o.limit, '--limit', 1, 100_000) };
      let text: string;
      let truncated: boolean;
      let count: number | null = null;
      if (o.format === 'csv') {
        ({ csv: text, truncated } = await client.reports.exportCsv(options));
      } else {
        const result = await client.reports.export(options);
        ({ truncated } = result);
        count = result.runs.length;
        text = JSON.stringify(result.runs, null, 2) + '\n';
      }
      if (o.output) writeFileSync(o.output, text);
      else process.stdout.write(text);
      if (o.output) process.stderr.write(`wrote ${count === null ? '' : `${count} runs to `}${o.output}\n`);
      if (truncated) process.stderr.write(paint('yellow', `more runs than --limit ${options.limit}: the export is cut short; narrow --since or raise --limit\n`));
    });
}

export function printJobFigures(f: Figures): void {
  printFields([
    ['runs', `${f.runs} (${f.succeeded} succeeded, ${f.failed} failed, ${f.canceled} canceled${f.in_flight ? `, ${f.in_flight} in flight` : ''})`],
    ['success rate', percent(f.success_rate)],
    ['duration', `avg ${millis(f.avg_ms)}, p50 ${millis(f.p50_ms)}, p95 ${millis(f.p95_ms)}`],
  ]);
}

export function printJobReport(r: JobReportData): void {
  process.stdout.write(`${paint('bold', `job ${r.job_name}`, process.stdout)} since ${r.since.slice(0, 10)}\n`);
  printJobFigures(r.summary);
  if (r.last_failures.length > 0) {
    printHeading('last failures');
    printTable(r.last_failures, [
      { header: 'RUN', value: (x) => String(x.id) },
      { header: 'WHEN', value: (x) => ago(x.finished_at ?? x.created_at) },
      { header: 'STATUS', value: (x) => x.status, style: statusText },
      { header: 'EXIT', value: (x) => (x.exit_code === null ? '-' : String(x.exit_code)) },
      { header: 'ERROR', value: (x) => x.error ?? '-', flexible: true },
      { header: 'LAST OUTPUT', value: (x) => x.error_line ?? '-', flexible: true },
    ]);
  }
  if (r.trend.length > 0) {
    printHeading(`per day (${r.timezone})`);
    printTable(r.trend, [
      { header: 'DAY', value: (d) => d.day },
      { header: 'RUNS', value: (d) => String(d.runs) },
      { header: 'OK', value: (d) => String(d.succeeded) },
      { header: 'FAILED', value: (d) => String(d.failed), style: (t) => (t === '0' ? t : paint('red', t, process.stdout)) },
      { header: 'SUCCESS', value: (d) => percent(d.succeeded + d.failed === 0 ? null : d.succeeded / (d.succeeded + d.failed)) },
      { header: 'AVG', value: (d) => millis(d.avg_ms) },
      { header: 'P95', value: (d) => millis(d.p95_ms) },
      { header: 'TREND', value: (d) => bar(d.succeeded, d.failed), flexible: true },
    ]);
  }
}

/** A bar of runs that day: one # per success, one x per failure (capped), for a glance. */
function bar(ok: number, failed: number): string {
  const scale = Math.max(1, Math.ceil((ok + failed) / 40));
  return '#'.repeat(Math.ceil(ok / scale)) + 'x'.repeat(Math.ceil(failed / scale));
}

export function printJobsFigures(jobs: JobFigures[]): void {
  if (jobs.length === 0) return void process.stderr.write('no jobs and no runs in this window\n');
  printTable(jobs, [
    { header: 'JOB', value: (j) => j.job_name + (j.defined ? '' : ' (deleted)') },
    { header: 'RUNS', value: (j) => String(j.runs) },
    { header: 'OK', value: (j) => String(j.succeeded) },
    { header: 'FAILED', value: (j) => String(j.failed) },
    { header: 'SUCCESS', value: (j) => percent(j.success_rate) },
    { header: 'AVG', value: (j) => millis(j.avg_ms) },
    { header: 'P50', value: (j) => millis(j.p50_ms) },
    { header: 'P95', value: (j) => millis(j.p95_ms) },
    { header: 'LAST RUN', value: (j) => (j.last_run_at ? `${j.last_status} ${ago(j.last_run_at)}` : '-') },
  ]);
}

export function printProjectReport(r: ProjectReportData): void {
  process.stdout.write(`${paint('bold', 'Hostrun report', process.stdout)} since ${r.since.slice(0, 10)}\n`);
  printJobFigures(r.totals);
  const w = r.queue_wait;
  printFields([['queue wait', w.runs === 0 ? '-' : `avg ${millis(w.avg_ms)}, p50 ${millis(w.p50_ms)}, p95 ${millis(w.p95_ms)}, max ${millis(w.max_ms)} (${w.runs} runs)`]]);
  printHeading('busiest jobs');
  if (r.busiest_jobs.length === 0) process.stdout.write('-\n');
  else printJobsFigures(r.busiest_jobs);
  printHeading('most failing jobs');
  if (r.most_failing_jobs.length === 0) process.stdout.write('no failures\n');
  else printJobsFigures(r.most_failing_jobs);
  printHeading('failure causes');
  if (r.failure_causes.length === 0) process.stdout.write('no failures\n');
  else
    printTable(r.failure_causes, [
      { header: 'RUNS', value: (c) => String(c.runs) },
      { header: 'LAST', value: (c) => ago(c.last_at) },
      { header: 'JOBS', value: (c) => c.jobs.join(', ') },
      { header: 'ERROR', value: (c) => c.error, flexible: true },
    ]);
  printHeading('hosts with the most failures');
  if (r.failing_targets.length === 0) process.stdout.write('no failures\n');
  else
    printTable(r.failing_targets, [
      { header: 'TARGET', value: (t) => t.target },
      { header: 'RUNS', value: (t) => String(t.runs) },
      { header: 'FAILED', value: (t) => String(t.failed) },
      { header: 'FAILURE RATE', value: (t) => percent(t.failure_rate) },
    ]);
}
