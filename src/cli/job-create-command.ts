import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { HostrunClient } from '../client/client.ts';
import type { JobDetail } from '../client/types.ts';
import { ConflictError, HostrunError } from '../core/errors.ts';
import { parseAssignments, parseDuration, shellJobSpec, type RawSpec } from '../core/shell-job.ts';
import { apiClientFromEnv } from './api-client.ts';
import { parseIntOption } from './config.ts';
import { ago, paint, printJson } from './output.ts';

// hostrun daemon job create --name N --command C [--schedule CRON] [--timezone TZ]
//   [--working-dir D] [--priority 1-10] [--env K=V ...] [--timeout DURATION] [--max-retries N]
//   [--runs-on HOST]
// A one-step job spec built from the flags, applied like `job apply -f` would (so it is
// validated, versioned and its schedule synced the same way), kept as readable YAML.

interface CreateOptions {
  name: string;
  command: string;
  schedule?: string;
  timezone?: string;
  workingDir?: string;
  priority?: string;
  env: string[];
  timeout?: string;
  maxRetries?: string;
  runsOn?: string;
  description?: string;
  json?: boolean;
}

const collect = (v: string, all: string[]) => [...all, v];

/** The time zone of the machine the command runs on: `0 2 * * *` means 02:00 here, as in crontab. */
export function localTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function registerJobCreateCommand(parent: Command): void {
  parent
    .command('create')
    .description('create a one-step job running a shell command, optionally on a cron schedule')
    .requiredOption('--name <name>', 'job name ("Daily Backup" becomes daily-backup)')
    .requiredOption('--command <command>', 'the shell command (bash) to run')
    .option('--schedule <cron>', 'cron expression, e.g. "0 2 * * *"')
    .option('--timezone <tz>', 'time zone of the schedule (default: this machine\'s)')
    .option('--working-dir <dir>', 'directory the command runs in')
    .option('--priority <1-10>', 'queue priority, higher runs first')
    .option('--env <K=V>', 'environment variable for the command (repeat for several)', collect, [] as string[])
    .option('--timeout <duration>', 'kill the run after this long: 90s, 30m, 2h')
    .option('--max-retries <n>', 'retry a failed run up to n times (exponential backoff)')
    .option('--runs-on <host>', 'a host name (or "local", the default)')
    .option('--description <text>', 'what the job is for')
    .option('--json', 'print the created job as JSON')
    .action(async (opts: CreateOptions) => {
      const spec = shellJobSpec({
        name: opts.name,
        command: opts.command,
        ...(opts.description ? { description: opts.description } : {}),
        ...(opts.schedule ? { schedule: opts.schedule, timezone: opts.timezone ?? localTimezone() } : {}),
        ...(opts.workingDir ? { workingDir: opts.workingDir } : {}),
        ...(opts.priority !== undefined ? { priority: parseIntOption(opts.priority, '--priority', 1, 10) } : {}),
        env: parseAssignments(opts.env, '--env'),
        ...(opts.timeout !== undefined ? { timeoutMinutes: parseDuration(opts.timeout, '--timeout') / 60_000 } : {}),
        ...(opts.maxRetries !== undefined ? { maxRetries: parseIntOption(opts.maxRetries, '--max-retries', 0, 100) } : {}),
        ...(opts.runsOn ? { runsOn: opts.runsOn } : {}),
      });
      if (opts.timezone && !opts.schedule) throw new HostrunError('invalid_request', '--timezone needs --schedule');
      const job = await createJob(apiClientFromEnv(), spec);
      if (opts.json) return printJson(job);
      printCreated(job);
    });
}

/**
 * Applies a spec as a new job; refuses to replace an existing one (a `create` that silently
 * rewrote another job would be a surprise; `job apply` is the way to change a job).
 */
export async function createJob(client: HostrunClient, spec: RawSpec): Promise<JobDetail> {
  const name = String(spec.name);
  const existing = await client.jobs.get(name).catch((err: unknown) => {
    if (err instanceof HostrunError && err.code === 'not_found') return null;
    throw err;
  });
  if (existing) throw new ConflictError(`job ${name} already exists (hostrun daemon job info ${name}); remove it first, or change it with hostrun job apply`);
  // YAML, not JSON: `job show` prints the source, and people read YAML.
  await client.jobs.apply(stringify(spec, { lineWidth: 0 }), 'yaml');
  return client.jobs.get(name);
}

export function printCreated(job: JobDetail): void {
  process.stdout.write(`job ${job.name} created (version ${job.version})\n`);
  for (const s of job.schedules) {
    process.stdout.write(`  schedule: ${s.description}; next run ${s.next_fire_at ? `${s.next_fire_at} (${ago(s.next_fire_at)})` : '-'}\n`);
  }
  process.stderr.write(paint('dim', `run it now: hostrun daemon job start ${job.name}\n`));
}
