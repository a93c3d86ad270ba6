import type { Command } from 'commander';
import { parseAssignments } from '../core/shell-job.ts';
import { TEMPLATES, templateGet, templateJobSpec } from '../core/templates.ts';
import { apiClientFromEnv } from './api-client.ts';
import { parseIntOption } from './config.ts';
import { registerJobControlCommands } from './job-control-commands.ts';
import { createJob, localTimezone, printCreated } from './job-create-command.ts';
import { printJson, printTable } from './output.ts';
import { registerReportCommands } from './report-commands.ts';

// hostrun cron templates | create-from-template <id> | list|start|stop|remove|info <job>
//              | report <job> | reports | comprehensive-report | export

interface FromTemplateOptions {
  name?: string;
  command?: string;
  schedule?: string;
  timezone?: string;
  workingDir?: string;
  priority?: string;
  runsOn?: string;
  input: string[];
  json?: boolean;
}

export function registerCronCommands(program: Command): void {
  const cron = program.command('cron').description('scheduled jobs: templates, control and reports');

  cron
    .command('templates')
    .description('list the built-in job templates and their inputs')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      if (o.json) return printJson(TEMPLATES);
      printTable([...TEMPLATES], [
        { header: 'ID', value: (t) => t.id },
        { header: 'CATEGORY', value: (t) => t.category },
        { header: 'SCHEDULE', value: (t) => t.schedule },
        {
          header: 'INPUTS',
          value: (t) => Object.entries(t.inputs).map(([k, v]) => (v.default === undefined ? `${k} (required)` : `${k}=${v.default}`)).join(', '),
        },
        { header: 'DESCRIPTION', value: (t) => t.description, flexible: true },
      ]);
      process.stderr.write('create one: hostrun cron create-from-template <id> --input name=value ...\n');
    });

  cron
    .command('create-from-template <template>')
    .description('create a scheduled job from a template (see cron templates for ids and inputs)')
    .option('--name <name>', 'job name (default: the template id)')
    .option('--command <command>', "replace the template's script (it may still use ${{ inputs.x }})")
    .option('--schedule <cron>', "replace the template's schedule")
    .option('--timezone <tz>', "time zone of the schedule (default: this machine's)")
    .option('--working-dir <dir>', 'directory the job runs in')
    .option('--priority <1-10>', 'queue priority, higher runs first')
    .option('--runs-on <host>', 'a host name (or "local", the default)')
    .option('-i, --input <key=value>', 'value of a template input (repeat for several)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--json', 'print the created job as JSON')
    .action(async (id: string, o: FromTemplateOptions) => {
      const spec = templateJobSpec(templateGet(id), {
        ...(o.name ? { name: o.name } : {}),
        ...(o.command ? { command: o.command } : {}),
        ...(o.schedule ? { schedule: o.schedule } : {}),
        timezone: o.timezone ?? localTimezone(),
        ...(o.workingDir ? { workingDir: o.workingDir } : {}),
        ...(o.priority !== undefined ? { priority: parseIntOption(o.priority, '--priority', 1, 10) } : {}),
        ...(o.runsOn ? { runsOn: o.runsOn } : {}),
        inputs: parseAssignments(o.input, '--input'),
      });
      const job = await createJob(apiClientFromEnv(), spec);
      if (o.json) return printJson(job);
      printCreated(job);
    });

  registerJobControlCommands(cron, { scheduledOnly: true });
  registerReportCommands(cron);
}
