import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { HostrunError } from '../core/errors.ts';
import type { ApplyResult, JobDetail } from '../client/types.ts';
import { apiClientFromEnv } from './api-client.ts';
import { ago, paint, printJson, printTable } from './output.ts';

// hostrun job apply -f FILE | list | show NAME | rm NAME | enable NAME | disable NAME

export function registerJobCommands(program: Command): void {
  const job = program.command('job').description('define and manage jobs');

  job
    .command('apply')
    .description('create a job from a YAML or JSON file, or update it (a new version only when the spec changed)')
    .requiredOption('-f, --file <path>', 'job spec file (.yaml, .yml or .json)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { file: string; json?: boolean }) => {
      const source = await readSpecFile(opts.file);
      const format = path.extname(opts.file).toLowerCase() === '.json' ? 'json' : 'yaml';
      let result: ApplyResult;
      try {
        result = await apiClientFromEnv().jobs.apply(source, format);
      } catch (err) {
        // Name the file: the details carry line and column within it.
        if (err instanceof HostrunError && err.code === 'invalid_spec') {
          throw new HostrunError(err.code, `${opts.file}: ${err.message}`, { details: err.details });
        }
        throw err;
      }
      if (opts.json) return printJson(result);
      const { job: j } = result;
      const what = result.created ? 'created' : result.changed ? `updated to version ${j.version}` : `unchanged (version ${j.version})`;
      process.stdout.write(`job ${j.name} ${what}${result.created ? ` (version ${j.version})` : ''}\n`);
    });

  job
    .command('list')
    .alias('ls')
    .description('list jobs with their last run and next scheduled time')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const jobs = await apiClientFromEnv().jobs.list();
      if (opts.json) return printJson(jobs);
      if (jobs.length === 0) return void process.stderr.write('no jobs yet: hostrun job apply -f <file.yaml>\n');
      printTable(jobs, [
        { header: 'NAME', value: (j) => j.name },
        { header: 'VERSION', value: (j) => String(j.version) },
        { header: 'ENABLED', value: (j) => (j.enabled ? 'yes' : 'no') },
        { header: 'LAST RUN', value: (j) => (j.last_run ? `#${j.last_run.id} ${j.last_run.status}` : '-') },
        { header: 'LAST RUN AT', value: (j) => ago(j.last_run?.created_at) },
        { header: 'NEXT', value: (j) => ago(j.next_fire_at) },
        { header: 'DESCRIPTION', value: (j) => j.description ?? '', flexible: true },
      ]);
    });

  job
    .command('show <name>')
    .description("show a job's definition, schedules and source")
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const j = await apiClientFromEnv().jobs.get(name);
      if (opts.json) return printJson(j);
      printJobDetail(j);
    });

  job
    .command('rm <name>')
    .alias('delete')
    .description('delete a job (its run history stays; its queued runs are canceled)')
    .action(async (name: string) => {
      await apiClientFromEnv().jobs.delete(name);
      process.stdout.write(`job ${name} deleted\n`);
    });

  for (const [action, word] of [['enable', 'enabled'], ['disable', 'disabled']] as const) {
    job
      .command(`${action} <name>`)
      .description(action === 'enable' ? 'let the job run again (schedules resume from now)' : 'stop schedules and manual runs of the job')
      .action(async (name: string) => {
        await apiClientFromEnv().jobs[action](name);
        process.stdout.write(`job ${name} ${word}\n`);
      });
  }
}

async function readSpecFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new HostrunError('invalid_request', `cannot read ${file}: ${why}`);
  }
}

export function printJobDetail(j: JobDetail): void {
  const spec = j.spec;
  const out: string[] = [];
  const field = (label: string, value: string) => out.push(`${paint('bold', label.padEnd(12), process.stdout)} ${value}`);
  field('name', j.name);
  if (j.description) field('description', j.description);
  field('version', `${j.version} (updated ${ago(j.updated_at)})`);
  field('enabled', j.enabled ? 'yes' : 'no');
  const runsOn = spec.runsOn;
  field('runs-on', runsOn.kind === 'local' ? 'local' : runsOn.kind === 'host' ? runsOn.name : `labels ${runsOn.labels.join(', ')}`);
  const inputs = Object.entries(spec.inputs);
  field(
    'inputs',
    inputs.length === 0
      ? '-'
      : inputs.map(([k, v]) => `${k}${v.required ? ' (required)' : v.default !== undefined ? `=${JSON.stringify(v.default)}` : ''}`).join(', '),
  );
  field('steps', spec.steps.map((s) => s.name).join(' → '));
  if (j.schedules.length === 0) field('schedules', '-');
  for (const [i, s] of j.schedules.entries()) {
    const state = !s.enabled ? 'paused' : s.next_fire_at ? `next ${s.next_fire_at} (${ago(s.next_fire_at)})` : '-';
    field(i === 0 ? 'schedules' : '', `${s.description}; ${state}`);
  }
  if (spec.webhook && j.webhook_id) field('webhook', j.webhook_id);
  out.push('', paint('bold', 'source', process.stdout), j.source.trimEnd());
  process.stdout.write(out.join('\n') + '\n');
}
