import type { Command } from 'commander';
import type { HostrunClient } from '../client/client.ts';
import type { LogLine, Run, RunEnd } from '../client/types.ts';
import { HostrunError } from '../core/errors.ts';
import { parseInputAssignments } from '../core/spec.ts';
import type { RunStatus } from '../core/types.ts';
import { apiClientFromEnv } from './api-client.ts';
import { parseIntOption } from './config.ts';
import { ago, duration, paint, printJson, printTable, runExitCode, spinner, statusText } from './output.ts';

// hostrun run JOB [--input k=v ...] [--wait|--follow] | runs [filters] | logs RUN [-f] | cancel RUN

export function registerRunCommands(program: Command): void {
  program
    .command('run <job>')
    .description('run a job now')
    .option('-i, --input <key=value>', 'set an input (repeat for several)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('-w, --wait', "wait until the run finishes; exit with the run's exit code")
    .option('-f, --follow', "stream the run's output until it finishes; exit with the run's exit code")
    .option('--priority <n>', 'queue priority, higher first (-1000..1000)')
    .option('--json', 'print the run as JSON')
    .action(async (job: string, opts: { input: string[]; wait?: boolean; follow?: boolean; priority?: string; json?: boolean }) => {
      const inputs = parseInputAssignments(opts.input);
      const priority = opts.priority === undefined ? undefined : parseIntOption(opts.priority, '--priority', -1000, 1000);
      const client = apiClientFromEnv();
      const run = await client.jobs.run(job, { inputs, trigger: 'manual', ...(priority === undefined ? {} : { priority }) });
      if (!opts.wait && !opts.follow) {
        if (opts.json) return printJson(run);
        process.stdout.write(`run ${run.id} queued (${run.job_name} v${run.job_version})\n`);
        process.stderr.write(paint('dim', `follow it with: hostrun logs ${run.id} -f\n`));
        return;
      }
      hintOnInterrupt(run.id);
      if (!opts.json) process.stderr.write(paint('dim', `run ${run.id} queued (${run.job_name} v${run.job_version})\n`));
      const end = opts.follow ? await followRun(client, run.id, { print: !opts.json }) : await waitForRun(client, run.id);
      if (opts.json) printJson(await client.runs.get(run.id));
      else printSummary(run.id, end);
      process.exitCode = runExitCode(end);
    });

  program
    .command('runs')
    .description('list runs, newest first')
    .option('--job <name>', 'only runs of this job')
    .option('--status <status>', 'only runs in this status (several: failed,timed_out)')
    .option('--trigger <trigger>', 'only runs started this way: manual, schedule, webhook, api, retry')
    .option('--limit <n>', 'how many (1..500)', '20')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON ({ runs, next_cursor })')
    .action(async (opts: { job?: string; status?: string; trigger?: string; limit: string; cursor?: string; json?: boolean }) => {
      const page = await apiClientFromEnv().runs.list({
        limit: parseIntOption(opts.limit, '--limit', 1, 500),
        ...(opts.job ? { job: opts.job } : {}),
        // Checked by the server, which names the allowed values.
        ...(opts.status ? { status: opts.status.split(',') as RunStatus[] } : {}),
        ...(opts.trigger ? { trigger: opts.trigger as Run['trigger'] } : {}),
        ...(opts.cursor ? { cursor: opts.cursor } : {}),
      });
      if (opts.json) return printJson(page);
      if (page.runs.length === 0) return void process.stderr.write('no runs\n');
      printTable(page.runs, [
        { header: 'ID', value: (r) => String(r.id) },
        { header: 'JOB', value: (r) => r.job_name },
        { header: 'STATUS', value: (r) => r.status, style: statusText },
        { header: 'TRIGGER', value: (r) => r.trigger },
        { header: 'CREATED', value: (r) => ago(r.created_at) },
        { header: 'DURATION', value: runDuration },
        { header: 'EXIT', value: (r) => (r.exit_code === null ? '-' : String(r.exit_code)) },
        { header: 'ERROR', value: (r) => r.error ?? '', flexible: true },
      ]);
      if (page.next_cursor) process.stderr.write(paint('dim', `more: hostrun runs --cursor ${page.next_cursor}\n`));
    });

  program
    .command('logs <run>')
    .description("print a run's output")
    .option('-f, --follow', 'keep printing until the run finishes')
    .option('--json', 'one JSON object per line')
    .action(async (rawId: string, opts: { follow?: boolean; json?: boolean }) => {
      const runId = runIdArg(rawId);
      const client = apiClientFromEnv();
      if (opts.follow) {
        await followRun(client, runId, { print: true, json: Boolean(opts.json) });
        return;
      }
      let after = 0;
      for (;;) {
        const page = await client.runs.logs(runId, { after, limit: 5000 });
        for (const line of page.lines) printLine(line, Boolean(opts.json));
        if (page.lines.length < 5000) return;
        after = page.next_after;
      }
    });

  program
    .command('cancel <run>')
    .description('cancel a run: at once if queued, else its worker stops it')
    .option('--json', 'print the run as JSON')
    .action(async (rawId: string, opts: { json?: boolean }) => {
      const run = await apiClientFromEnv().runs.cancel(runIdArg(rawId));
      if (opts.json) return printJson(run);
      process.stdout.write(run.status === 'canceled' ? `run ${run.id} canceled\n` : `run ${run.id} is ${run.status}: cancel requested, its worker is stopping it\n`);
    });

  program
    .command('show-run <run>')
    .description('show one run with its steps')
    .option('--json', 'print JSON')
    .action(async (rawId: string, opts: { json?: boolean }) => {
      const run = await apiClientFromEnv().runs.get(runIdArg(rawId));
      if (opts.json) return printJson(run);
      process.stdout.write(
        `run ${run.id}  ${run.job_name} v${run.job_version}  ${statusText(run.status)}  ${run.trigger}  created ${ago(run.created_at)}` +
          `${run.exit_code === null ? '' : `  exit ${run.exit_code}`}\n`,
      );
      if (run.error) process.stdout.write(`error: ${run.error}\n`);
      if (Object.keys(run.inputs).length > 0) process.stdout.write(`inputs: ${JSON.stringify(run.inputs)}\n`);
      if (run.steps.length > 0) {
        printTable(run.steps, [
          { header: '#', value: (s) => String(s.idx + 1) },
          { header: 'STEP', value: (s) => s.name },
          { header: 'STATUS', value: (s) => s.status, style: statusText },
          { header: 'EXIT', value: (s) => (s.exit_code === null ? '-' : String(s.exit_code)) },
          { header: 'ERROR', value: (s) => s.error ?? '', flexible: true },
        ]);
      }
    });
}

export function runIdArg(raw: string): number {
  const id = raw.replace(/^#/, '');
  if (!/^[1-9][0-9]{0,15}$/.test(id)) throw new HostrunError('invalid_request', `"${raw}" is not a run id (a number, as in hostrun runs)`);
  return Number(id);
}

export function runDuration(r: Run): string {
  if (!r.started_at) return '-';
  const end = r.finished_at ? Date.parse(r.finished_at) : Date.now();
  return duration(end - Date.parse(r.started_at));
}

function printLine(line: LogLine, json: boolean): void {
  if (json) return void process.stdout.write(JSON.stringify(line) + '\n');
  if (line.stream === 'stdout') process.stdout.write(line.text + '\n');
  else if (line.stream === 'stderr') process.stderr.write(line.text + '\n');
  else process.stderr.write(paint('dim', line.text) + '\n');
}

/** Prints a run's output live until it ends (the client resumes a dropped stream). */
export async function followRun(client: HostrunClient, runId: number, opts: { print: boolean; json?: boolean }): Promise<RunEnd> {
  const stream = client.runs.stream(runId);
  for (;;) {
    const next = await stream.next();
    if (next.done) return next.value;
    if (opts.print) printLine(next.value, Boolean(opts.json));
  }
}

/** Waits for the run to finish, with a spinner showing its status on a terminal. */
export async function waitForRun(client: HostrunClient, runId: number): Promise<RunEnd> {
  const spin = spinner(`run ${runId}`);
  try {
    return await client.runs.wait(runId, { onPoll: (run) => spin.update(`run ${runId} ${run.status}`) });
  } finally {
    spin.stop();
  }
}

function printSummary(runId: number, end: RunEnd): void {
  const colour = end.status === 'succeeded' ? 'green' : end.status === 'canceled' ? 'yellow' : 'red';
  const exit = end.exit_code !== null && end.status !== 'succeeded' ? ` (exit code ${end.exit_code})` : '';
  process.stderr.write(paint(colour, `run ${runId} ${end.status}${exit}`) + (end.error ? `: ${end.error}` : '') + '\n');
}

/** Ctrl-C stops watching, not the run: say so, and how to cancel it. */
function hintOnInterrupt(runId: number): void {
  process.once('SIGINT', () => {
    process.stderr.write(`\nstopped watching; run ${runId} continues on the server (cancel it: hostrun cancel ${runId})\n`);
    process.exit(130);
  });
}
