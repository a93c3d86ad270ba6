import type { Command } from 'commander';
import { apiClientFromEnv } from './api-client.ts';
import { ago, printJson, printTable } from './output.ts';

// hostrun schedules [--job J] | schedules pause ID | schedules resume ID

export function registerScheduleCommands(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('list schedules (they come from the `on.schedule` of job specs)')
    .option('--job <name>', "only this job's schedules")
    .option('--json', 'print JSON')
    .action(async (opts: { job?: string; json?: boolean }) => {
      const rows = await apiClientFromEnv().schedules.list(opts.job ? { job: opts.job } : {});
      if (opts.json) return printJson(rows);
      if (rows.length === 0) return void process.stderr.write('no schedules: add `on: { schedule: [{ cron: ... }] }` to a job\n');
      printTable(rows, [
        { header: 'ID', value: (s) => s.id },
        { header: 'JOB', value: (s) => s.job_name },
        { header: 'STATE', value: (s) => (!s.job_enabled ? 'job disabled' : s.enabled ? 'active' : 'paused') },
        { header: 'NEXT', value: (s) => (s.enabled && s.job_enabled && s.next_fire_at ? ago(s.next_fire_at) : '-') },
        { header: 'LAST', value: (s) => ago(s.last_fire_at) },
        { header: 'WHEN', value: (s) => s.description, flexible: true },
      ]);
    });

  for (const [action, word] of [['pause', 'paused'], ['resume', 'resumed']] as const) {
    schedules
      .command(`${action} <id>`)
      .description(action === 'pause' ? 'stop a schedule from firing (until resumed or the job is applied again)' : 'let a paused schedule fire again, from now on')
      .action(async (id: string) => {
        await apiClientFromEnv().schedules[action](id);
        process.stdout.write(`schedule ${id} ${word}\n`);
      });
  }
}
