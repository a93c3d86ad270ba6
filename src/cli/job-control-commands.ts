import type { Command } from 'commander';
import type { Run } from '../client/types.ts';
import { HostrunError } from '../core/errors.ts';
import { parseInputAssignments } from '../core/spec.ts';
import { apiClientFromEnv } from './api-client.ts';
import { parseIntOption } from './config.ts';
import { printJobDetail } from './job-commands.ts';
import { ago, paint, printHeading, printJson, printTable, runExitCode, statusText } from './output.ts';
import { printJobFigures, printJobsFigures } from './report-commands.ts';
import { followRun, runDuration, waitForRun } from './run-commands.ts';

// The job verbs of the shell workflow, registered twice with the same behaviour:
//   hostrun daemon job list|info|start|stop|remove <id|name>
//   hostrun cron       list|info|start|stop|remove <id|name>   (list: scheduled jobs only)
// and the history views: hostrun daemon db history|stats.
//
// start = run now; stop = cancel the job's queued and running runs (pausing a schedule is
// `hostrun schedules pause`, disabling a job `hostrun job disable`).

const IN_FLIGHT = ['queued', 'claimed', 'running'] as const;

export function registerJobControlCommands(parent: Command, opts: { scheduledOnly: boolean }): void {
  parent
    .command('list')
    .alias('ls')
    .description(opts.scheduledOnly ? 'list jobs that have a schedule, with their next run' : 'list jobs with their schedule, next and last run')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const client = apiClientFromEnv();
      const [jobs, schedules] = await Promise.all([client.jobs.list(), client.schedules.list()]);
      const byJob = new Map<string, string[]>();
      for (const s of schedules) byJob.set(s.job_name, [...(byJob.get(s.job_name) ?? []), s.enabled ? s.description : `${s.description} (paused)`]);
      const rows = jobs.filter((j) => !opts.scheduledOnly || byJob.has(j.name)).map((j) => ({ ...j, schedules: byJob.get(j.name) ?? [] }));
      if (o.json) return printJson(rows);
      if (rows.length === 0) {
        return void process.stderr.write(opts.scheduledOnly ? 'no scheduled jobs: hostrun cron create-from-template <id>\n' : 'no jobs: hostrun daemon job create --name N --command C\n');
      }
      printTable(rows, [
        { header: 'NAME', value: (j) => j.name },
        { header: 'ID', value: (j) => j.id.slice(0, 8) },
        { header: 'ENABLED', value: (j) => (j.enabled ? 'yes' : 'no') },
        { header: 'NEXT', value: (j) => ago(j.next_fire_at) },
        { header: 'LAST RUN', value: (j) => (j.last_run ? `#${j.last_run.id} ${j.last_run.status} ${ago(j.last_run.created_at)}` : '-') },
        { header: 'SCHEDULE', value: (j) => j.schedules.join('; ') || '-', flexible: true },
      ]);
    });

  parent
    .command('info <job>')
    .description("a job's definition, schedule, figures of the last 30 days and recent runs")
    .option('--json', 'print JSON')
    .action(async (idOrName: string, o: { json?: boolean }) => {
      const client = apiClientFromEnv();
      const name = await client.jobs.resolveName(idOrName);
      const [job, report, recent] = await Promise.all([client.jobs.get(name), client.reports.job(name, { failures: 3 }), client.runs.list({ job: name, limit: 5 })]);
      if (o.json) return printJson({ job, report, recent_runs: recent.runs });
      printJobDetail(job);
      printHeading('last 30 days');
      printJobFigures(report.summary);
      if (recent.runs.length > 0) {
        printHeading('recent runs');
        printRuns(recent.runs);
      }
    });

  parent
    .command('start <job>')
    .alias('run')
    .description('run the job now')
    .option('-i, --input <key=value>', 'set an input (repeat for several)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('-w, --wait', "wait until the run finishes; exit with the run's exit code")
    .option('-f, --follow', "stream the run's output; exit with the run's exit code")
    .option('--json', 'print the run as JSON')
    .action(async (idOrName: string, o: { input: string[]; wait?: boolean; follow?: boolean; json?: boolean }) => {
      const client = apiClientFromEnv();
      const name = await client.jobs.resolveName(idOrName);
      const run = await client.jobs.run(name, { inputs: parseInputAssignments(o.input), trigger: 'manual' });
      if (!o.wait && !o.follow) {
        if (o.json) return printJson(run);
        process.stdout.write(`run ${run.id} of ${run.job_name} queued\n`);
        return;
      }
      const end = o.follow ? await followRun(client, run.id, { print: !o.json }) : await waitForRun(client, run.id);
      if (o.json) printJson(await client.runs.get(run.id));
      else process.stderr.write(`run ${run.id} ${statusText(end.status)}${end.error ? `: ${end.error}` : ''}\n`);
      process.exitCode = runExitCode(end);
    });

  parent
    .command('stop <job>')
    .description("cancel the job's queued and running runs (its schedule stays)")
    .option('--json', 'print the canceled runs as JSON')
    .action(async (idOrName: string, o: { json?: boolean }) => {
      const client = apiClientFromEnv();
      const name = await client.jobs.resolveName(idOrName);
      await client.jobs.get(name); // an unknown job is "not found", not "nothing to stop"
      const canceled: Run[] = [];
      // Pages until none is left in flight; a run that finishes meanwhile is simply skipped.
      for (let page = await client.runs.list({ job: name, status: [...IN_FLIGHT], limit: 500 }); ; ) {
        for (const run of page.runs) {
          try {
            canceled.push(await client.runs.cancel(run.id));
          } catch (err) {
            if (!(err instanceof HostrunError && err.code === 'conflict')) throw err;
          }
        }
        if (!page.next_cursor) break;
        page = await client.runs.list({ job: name, status: [...IN_FLIGHT], limit: 500, cursor: page.next_cursor });
      }
      if (o.json) return printJson(canceled);
      if (canceled.length === 0) return void process.stdout.write(`job ${name} has no queued or running runs\n`);
      process.stdout.write(`canceled ${canceled.length} run${canceled.length === 1 ? '' : 's'} of ${name}: ${canceled.map((r) => r.id).join(', ')}\n`);
    });

  parent
    .command('remove <job>')
    .alias('rm')
    .description('delete the job and its schedule (its run history stays; queued runs are canceled)')
    .option('--json', 'print JSON')
    .action(async (idOrName: string, o: { json?: boolean }) => {
      const client = apiClientFromEnv();
      const name = await client.jobs.resolveName(idOrName);
      const result = await client.jobs.delete(name);
      if (o.json) return printJson(result);
      process.stdout.write(`job ${name} removed\n`);
    });
}

export function registerDaemonDbCommands(parent: Command): void {
  parent
    .command('history')
    .description('run history, newest first')
    .option('--job-id <job>', 'only runs of this job (id or name)')
    .option('--status <status>', 'only runs in this status (several: failed,timed_out)')
    .option('--limit <n>', 'how many (1..500)', '20')
    .option('--json', 'print JSON')
    .action(async (o: { jobId?: string; status?: string; limit: string; json?: boolean }) => {
      const client = apiClientFromEnv();
      const job = o.jobId ? await client.jobs.resolveName(o.jobId) : undefined;
      const page = await client.runs.list({
        limit: parseIntOption(o.limit, '--limit', 1, 500),
        ...(job ? { job } : {}),
        ...(o.status ? { status: o.status.split(',') as Run['status'][] } : {}),
      });
      if (o.json) return printJson(page.runs);
      if (page.runs.length === 0) return void process.stderr.write('no runs\n');
      printRuns(page.runs);
    });

  parent
    .command('stats')
    .description('run statistics: of one job, or one line per job')
    .option('--job-id <job>', 'one job (id or name)')
    .option('--since <date>', 'from this date (2026-01-31) or this many days back (7d); default 30d')
    .option('--json', 'print JSON')
    .action(async (o: { jobId?: string; since?: string; json?: boolean }) => {
      const client = apiClientFromEnv();
      const window = o.since ? { since: o.since } : {};
      if (o.jobId) {
        const report = await client.reports.job(await client.jobs.resolveName(o.jobId), window);
        if (o.json) return printJson(report.summary);
        return printJobFigures(report.summary);
      }
      const jobs = await client.reports.jobs(window);
      if (o.json) return printJson(jobs);
      printJobsFigures(jobs);
    });
}

function printRuns(runs: Run[]): void {
  printTable(runs, [
    { header: 'ID', value: (r) => String(r.id) },
    { header: 'JOB', value: (r) => r.job_name },
    { header: 'STATUS', value: (r) => r.status, style: statusText },
    { header: 'TRIGGER', value: (r) => r.trigger },
    { header: 'TARGET', value: (r) => r.target },
    { header: 'CREATED', value: (r) => ago(r.created_at) },
    { header: 'DURATION', value: runDuration },
    { header: 'EXIT', value: (r) => (r.exit_code === null ? '-' : String(r.exit_code)) },
    { header: 'ERROR', value: (r) => r.error ?? '', flexible: true, style: (t) => paint('red', t, process.stdout) },
  ]);
}
