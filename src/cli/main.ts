import { Command, CommanderError } from 'commander';
import { HOSTRUN_VERSION } from '../core/version.ts';
import { EXIT, EXIT_CODES_HELP, reportError } from './output.ts';
import { registerCompletionCommand } from './completion.ts';
import { registerCronCommands } from './cron-commands.ts';
import { registerDaemonCommands } from './daemon-commands.ts';
import { registerJobCommands } from './job-commands.ts';
import { registerMemberCommands } from './member-commands.ts';
import { registerProjectCommands } from './project-commands.ts';
import { registerTokenCommands } from './token-commands.ts';
import { registerUserCommands } from './user-commands.ts';
import { registerRunCommands } from './run-commands.ts';
import { registerScheduleCommands } from './schedule-commands.ts';
import { registerHostCommands } from './host-commands.ts';
import { registerSecretCommands } from './secret-commands.ts';

// The `hostrun` command. Client commands talk to the server over HTTP; the process commands
// (start, server, worker, scheduler, migrate) are registered from a module loaded only when
// one of them is asked for, so `hostrun runs` starts fast and needs no database driver.

const PROCESS_COMMANDS = new Set(['start', 'server', 'worker', 'scheduler', 'migrate']);

const ENV_HELP = `
Environment:
  HOSTRUN_HOME   data directory: embedded Postgres, admin token (default ./.hostrun)
  DATABASE_URL   Postgres to use; without it \`start\` runs an embedded one in HOSTRUN_HOME
  HOSTRUN_PORT   server port (8080)          HOSTRUN_BIND   server address (127.0.0.1)
  HOSTRUN_URL    where the CLI finds the server (http://127.0.0.1:$HOSTRUN_PORT)
  HOSTRUN_TOKEN  API token (default: the one \`hostrun login\` stored, else HOSTRUN_HOME/admin-token)
  HOSTRUN_PROJECT  the project to act in (--project; default: the token's project, else \`default\`)
  NO_COLOR       no colour (colour is only ever used on a terminal)
  HOSTRUN_WORKER_CONCURRENCY  runs a worker executes at once (8)     LOG_LEVEL  (info)
  HOSTRUN_LOG_MAX_MB  output stored per run before it is truncated (64)`;

async function buildProgram(argv: string[]): Promise<Command> {
  const program = new Command('hostrun')
    .description('Hostrun: run scripts and jobs on your machines, on demand or on a schedule')
    .version(HOSTRUN_VERSION)
    .addHelpText('after', `${ENV_HELP}\n${EXIT_CODES_HELP}\n`)
    // Every command acts in one project: this option (anywhere on the line) or HOSTRUN_PROJECT,
    // sent as X-Hostrun-Project; without either, a project token's own project or `default`.
    .option('--project <slug>', 'the project to act in (env HOSTRUN_PROJECT)')
    .hook('preAction', (cmd) => {
      const project = (cmd.opts() as { project?: string }).project;
      if (project) process.env.HOSTRUN_PROJECT = project;
    })
    // Set before any subcommand exists, so every subcommand inherits it: usage errors come
    // back here as CommanderErrors instead of exiting with commander's own code.
    .exitOverride();
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  if (command === undefined || command === 'help' || PROCESS_COMMANDS.has(command)) {
    const { registerProcessCommands } = await import('./process-commands.ts');
    registerProcessCommands(program);
  } else {
    // Listed in help but not loaded: the real definitions live in process-commands.ts.
    for (const name of PROCESS_COMMANDS) program.command(name).description('(server side; see hostrun help)');
  }
  registerJobCommands(program);
  registerRunCommands(program);
  registerScheduleCommands(program);
  registerHostCommands(program);
  registerSecretCommands(program);
  registerUserCommands(program);
  registerProjectCommands(program);
  registerMemberCommands(program);
  registerTokenCommands(program);
  registerDaemonCommands(program);
  registerCronCommands(program);
  registerCompletionCommand(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its message (or the help); only the exit code is ours.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportError(err);
  }
}

process.exitCode = await main(process.argv);
