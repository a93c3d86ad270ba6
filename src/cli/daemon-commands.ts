import type { Command } from 'commander';
import type { StatusReport } from '../client/types.ts';
import { HostrunError } from '../core/errors.ts';
import { HOSTRUN_VERSION } from '../core/version.ts';
import { apiClientFromEnv } from './api-client.ts';
import { loadConfig, parseIntOption } from './config.ts';
import { daemonPaths, daemonRunning, daemonSpawn, daemonStop, logTail, type DaemonPaths, type DaemonRecord } from './daemon-process.ts';
import { registerDaemonDbCommands, registerJobControlCommands } from './job-control-commands.ts';
import { registerJobCreateCommand } from './job-create-command.ts';
import { duration, EXIT, paint, printFields, printJson, spinner } from './output.ts';

// hostrun daemon start|stop|restart|status, daemon job ..., daemon db ...
// The daemon is `hostrun start` in the background (see daemon-process.ts for how).

interface StartOptions {
  port?: string;
  bind?: string;
  concurrency?: string;
  labels?: string;
  wait: string;
  json?: boolean;
}

/** Long enough for a first start that initialises the embedded Postgres on a slow disk. */
const DEFAULT_START_WAIT_S = '90';
/** The worker lets running runs finish for 30 s, then Postgres stops: 60 s covers both. */
const DEFAULT_STOP_TIMEOUT_S = '60';

export function registerDaemonCommands(program: Command): void {
  const daemon = program.command('daemon').description('run Hostrun in the background; manage its jobs and history');

  const withStartOptions = (cmd: Command) =>
    cmd
      .option('--port <port>', 'HTTP port (env HOSTRUN_PORT, default 8080)')
      .option('--bind <address>', 'address to listen on (env HOSTRUN_BIND, default 127.0.0.1)')
      .option('--concurrency <n>', 'runs executed at once (env HOSTRUN_WORKER_CONCURRENCY, default 8)')
      .option('--labels <a,b>', 'labels of the worker')
      .option('--wait <seconds>', 'how long to wait for the server to answer', DEFAULT_START_WAIT_S)
      .option('--json', 'print JSON');

  withStartOptions(daemon.command('start'))
    .description('start `hostrun start` in the background (pid and log file in HOSTRUN_HOME)')
    .action(async (opts: StartOptions) => {
      const paths = daemonPaths(loadConfig().home);
      const record = await startDaemon(paths, startArgs(opts), parseIntOption(opts.wait, '--wait', 1, 3600));
      if (opts.json) return printJson(record);
      process.stdout.write(`Hostrun daemon started (pid ${record.pid}) at ${record.url}\n`);
      process.stderr.write(paint('dim', `log: ${record.log_file}; stop it with: hostrun daemon stop\n`));
    });

  daemon
    .command('stop')
    .description('stop the daemon: gracefully (runs get their grace period), forced after --timeout')
    .option('--timeout <seconds>', 'how long to wait before killing it', DEFAULT_STOP_TIMEOUT_S)
    .option('--json', 'print JSON')
    .action(async (opts: { timeout: string; json?: boolean }) => {
      const paths = daemonPaths(loadConfig().home);
      const record = daemonRunning(paths);
      if (!record) {
        if (opts.json) return printJson({ running: false });
        return void process.stderr.write('the Hostrun daemon is not running\n');
      }
      const how = await stopDaemon(paths, record, parseIntOption(opts.timeout, '--timeout', 1, 3600));
      if (opts.json) return printJson({ running: false, pid: record.pid, stopped: how });
      process.stdout.write(how === 'stopped' ? `Hostrun daemon stopped (pid ${record.pid})\n` : `Hostrun daemon did not stop within ${opts.timeout}s: killed (pid ${record.pid})\n`);
    });

  withStartOptions(daemon.command('restart'))
    .description('stop the daemon (if running) and start it again, with its previous options unless new ones are given')
    .option('--timeout <seconds>', 'how long to wait for the stop before killing it', DEFAULT_STOP_TIMEOUT_S)
    .action(async (opts: StartOptions & { timeout: string }) => {
      const paths = daemonPaths(loadConfig().home);
      const previous = daemonRunning(paths);
      if (previous) await stopDaemon(paths, previous, parseIntOption(opts.timeout, '--timeout', 1, 3600));
      const args = startArgs(opts);
      const record = await startDaemon(paths, args.length > 0 ? args : (previous?.args ?? []), parseIntOption(opts.wait, '--wait', 1, 3600));
      if (opts.json) return printJson(record);
      process.stdout.write(`Hostrun daemon ${previous ? 'restarted' : 'started'} (pid ${record.pid}) at ${record.url}\n`);
    });

  daemon
    .command('status')
    .description('is the daemon running; its pid, uptime, version, database, workers and queue (exit 3 when nothing runs)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const paths = daemonPaths(loadConfig().home);
      const record = daemonRunning(paths);
      // Ask the server even without a daemon: `hostrun start` may run in a terminal instead.
      const client = record ? apiClientFromEnv({ ...process.env, HOSTRUN_URL: record.url }) : apiClientFromEnv();
      let server: StatusReport | null = null;
      let serverError: string | null = null;
      try {
        server = await client.reports.status();
      } catch (err) {
        serverError = err instanceof HostrunError ? err.message : String(err);
      }
      const uptimeS = record ? Math.max(0, Math.round((Date.now() - Date.parse(record.started_at)) / 1000)) : null;
      if (opts.json) {
        printJson({
          running: record !== null,
          pid: record?.pid ?? null,
          started_at: record?.started_at ?? null,
          uptime_seconds: uptimeS,
          url: record?.url ?? client.baseUrl,
          pid_file: paths.pidFile,
          log_file: paths.logFile,
          server,
          server_error: serverError,
        });
      } else {
        printStatus(paths, record, uptimeS, client.baseUrl, server, serverError);
      }
      if (!record && !server) process.exitCode = EXIT.notFound;
    });

  const job = daemon.command('job').description('create and control jobs from the shell');
  registerJobCreateCommand(job);
  registerJobControlCommands(job, { scheduledOnly: false });

  const db = daemon.command('db').description('run history and statistics from the database');
  registerDaemonDbCommands(db);
}

function startArgs(opts: StartOptions): string[] {
  const args: string[] = [];
  if (opts.port !== undefined) args.push('--port', String(parseIntOption(opts.port, '--port', 1, 65535)));
  if (opts.bind !== undefined) args.push('--bind', opts.bind);
  if (opts.concurrency !== undefined) args.push('--concurrency', String(parseIntOption(opts.concurrency, '--concurrency', 1, 1000)));
  if (opts.labels !== undefined) args.push('--labels', opts.labels);
  return args;
}

/** Where the daemon will answer: its --port on loopback, else HOSTRUN_URL / HOSTRUN_PORT. */
function daemonUrl(args: string[]): string {
  const portAt = args.indexOf('--port');
  return portAt >= 0 ? `http://127.0.0.1:${args[portAt + 1]}` : loadConfig().url;
}

async function startDaemon(paths: DaemonPaths, args: string[], waitS: number): Promise<DaemonRecord> {
  const url = daemonUrl(args);
  const { record, exited } = daemonSpawn(paths, { args, url });
  const client = apiClientFromEnv({ ...process.env, HOSTRUN_URL: url });
  const spin = spinner(`starting Hostrun (pid ${record.pid})`);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + waitS * 1000;
  try {
    for (;;) {
      if (exitCode !== undefined) {
        daemonRunning(paths); // clears the pid file of the dead child
        throw new HostrunError('conflict', `the daemon exited during start (code ${exitCode}); the end of ${paths.logFile}:\n${logTail(paths.logFile)}`);
      }
      try {
        await client.ready();
        return record;
      } catch {
        // not answering yet (or the database is still migrating)
      }
      if (Date.now() > deadline) {
        throw new HostrunError('unavailable', `the daemon (pid ${record.pid}) does not answer at ${url} after ${waitS}s; see ${paths.logFile}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    spin.stop();
  }
}

async function stopDaemon(paths: DaemonPaths, record: DaemonRecord, timeoutS: number): Promise<'stopped' | 'killed'> {
  const spin = spinner(`stopping Hostrun (pid ${record.pid})`);
  try {
    return await daemonStop(paths, record, timeoutS * 1000);
  } finally {
    spin.stop();
  }
}

function printStatus(paths: DaemonPaths, record: DaemonRecord | null, uptimeS: number | null, url: string, server: StatusReport | null, serverError: string | null): void {
  const fields: [string, string][] = [];
  if (record) {
    fields.push(['daemon', `${paint('green', 'running', process.stdout)} (pid ${record.pid}, up ${duration((uptimeS ?? 0) * 1000)})`]);
  } else {
    fields.push(['daemon', paint(server ? 'yellow' : 'red', 'not running', process.stdout) + (server ? ' (but a server answers: started some other way)' : '')]);
  }
  fields.push(['url', url]);
  if (server) {
    const db = server.database;
    fields.push(['version', server.version === HOSTRUN_VERSION ? server.version : `${server.version} (this CLI: ${HOSTRUN_VERSION})`]);
    fields.push(['database', `${db.name}${db.host ? ` on ${db.host}:${db.port}` : ''} (PostgreSQL ${db.server_version})`]);
    const slots = server.workers.reduce((n, w) => n + w.concurrency, 0);
    fields.push(['workers', server.workers.length === 0 ? 'none alive' : `${server.workers.length} alive, ${slots} slots (${server.workers.map((w) => `${w.hostname}:${w.pid ?? '?'}`).join(', ')})`]);
    fields.push(['queue', `${server.queued} queued, ${server.claimed + server.running} running`]);
  } else if (record) {
    fields.push(['server', `not answering: ${serverError ?? 'unknown'}`]);
  }
  fields.push(['pid file', paths.pidFile], ['log', paths.logFile]);
  printFields(fields);
}
