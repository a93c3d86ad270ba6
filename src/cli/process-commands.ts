import path from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { migrate } from '../db/migrate.ts';
import { createPool, redactUrl, type Pool } from '../db/pool.ts';
import { adminTokenEnsure } from '../server/admin-token.ts';
import { authSettingsFromEnv, setupBanner, startServer } from '../server/http-server.ts';
import { createLogger } from '../server/logger.ts';
import { startScheduler } from '../scheduler/scheduler.ts';
import { startWorker } from '../worker/worker.ts';
import { loadSecretKey, type SecretKey } from '../secrets/crypto.ts';
import { loadConfig, parseIntOption, type Config } from './config.ts';
import { assertPortFree, exitOnSignal, resolveDatabase, Shutdown, type ResolvedDatabase } from './lifecycle.ts';

// The processes: `start` runs everything in one process (embedded Postgres unless
// DATABASE_URL is set); `server`, `worker`, `scheduler` run one part each against a shared
// DATABASE_URL; `migrate` applies migrations and exits. main.ts loads this module only for
// these commands, so client commands never pay for pg, Hono or the worker.

interface ServeOptions {
  port?: string;
  bind?: string;
}
interface WorkOptions {
  concurrency?: string;
  labels?: string;
}

export function registerProcessCommands(program: Command): void {
  program
    .command('start')
    .description('run server, scheduler and worker in one process (embedded Postgres unless DATABASE_URL is set)')
    .option('--port <port>', 'HTTP port (env HOSTRUN_PORT, default 8080)')
    .option('--bind <address>', 'address to listen on (env HOSTRUN_BIND, default 127.0.0.1)')
    .option('--concurrency <n>', 'runs executed at once (env HOSTRUN_WORKER_CONCURRENCY, default 8)')
    .option('--labels <a,b>', 'labels of the worker, for jobs with runs-on: { labels: [...] }')
    .option('--no-scheduler', 'do not fire schedules here (they are fired by `hostrun scheduler` processes elsewhere)')
    .action((opts: ServeOptions & WorkOptions & { scheduler?: boolean }) => runProcess('start', opts));

  program
    .command('server')
    .description('run the HTTP API (needs DATABASE_URL)')
    .option('--port <port>', 'HTTP port (env HOSTRUN_PORT, default 8080)')
    .option('--bind <address>', 'address to listen on (env HOSTRUN_BIND, default 127.0.0.1)')
    .action((opts: ServeOptions) => runProcess('server', opts));

  program
    .command('worker')
    .description('claim and execute runs (needs DATABASE_URL)')
    .option('--concurrency <n>', 'runs executed at once (env HOSTRUN_WORKER_CONCURRENCY, default 8)')
    .option('--labels <a,b>', 'labels of this worker, for jobs with runs-on: { labels: [...] }')
    .action((opts: WorkOptions) => runProcess('worker', opts));

  program
    .command('scheduler')
    .description('turn due schedules into runs (needs DATABASE_URL; any number may run at once)')
    .action(() => runProcess('scheduler', {}));

  program
    .command('migrate')
    .description('apply database migrations and exit (needs DATABASE_URL)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const shutdown = new Shutdown(logger);
      try {
        const db = await resolveDatabase(config, 'migrate', shutdown);
        const pool = createPool(db.url, { max: 1, applicationName: 'hostrun-migrate' });
        shutdown.add('pool', () => pool.end());
        const applied = await migrate(pool);
        process.stderr.write(applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n');
      } finally {
        await shutdown.run();
      }
    });
}

type ProcessKind = 'start' | 'server' | 'worker' | 'scheduler';

async function runProcess(kind: ProcessKind, opts: ServeOptions & WorkOptions & { scheduler?: boolean }): Promise<void> {
  const config = loadConfig();
  const port = opts.port !== undefined ? parseIntOption(opts.port, '--port', 0, 65535) : config.port;
  const bind = opts.bind ?? config.bind;
  const concurrency = opts.concurrency !== undefined ? parseIntOption(opts.concurrency, '--concurrency', 1, 1000) : config.workerConcurrency;
  const labels = (opts.labels ?? '').split(',').map((l) => l.trim()).filter(Boolean);
  const logger = createLogger(config.logLevel);
  const shutdown = new Shutdown(logger);

  try {
    // Before anything else: a second `hostrun start` must not touch the first one's database.
    if (kind === 'start') await assertPortFree(port, bind);
    const db = await resolveDatabase(config, kind, shutdown);
    // Workers open secrets for runs, the server seals what users set; the scheduler needs none.
    const secretKey = kind === 'scheduler' ? undefined : loadSecretKey({ home: config.home, embedded: db.embedded });
    const pool = openPool(db.url, `hostrun-${kind}`, kind === 'worker' ? Math.min(concurrency + 4, 40) : 10, shutdown);
    // Every process migrates (under the migrator's advisory lock) so any start order works.
    const applied = await migrate(pool);
    if (applied.length) logger.info({ applied }, 'migrations applied');

    // Started in dependency order; Shutdown stops them in reverse: HTTP first (no new runs
    // come in), then the scheduler, then the worker drains, then pools, then Postgres.
    if (kind === 'start' || kind === 'worker') {
      const workerPool = kind === 'start' ? openPool(db.url, 'hostrun-worker', Math.min(concurrency + 4, 40), shutdown) : pool;
      const worker = await startWorker({
        pool: workerPool,
        databaseUrl: db.url,
        concurrency,
        labels,
        home: config.home,
        maxLogBytesPerRun: config.logMaxBytes,
        secretKey,
        // The same settings the API applies to uploads (one reader of the environment).
        artifactRetentionDays: authSettingsFromEnv(process.env).artifacts.retentionDays,
        artifactMaxBytes: authSettingsFromEnv(process.env).artifacts.maxBytes,
        logger: logger.child({ component: 'worker' }),
      });
      shutdown.add('worker', () => worker.stop());
    }
    if ((kind === 'start' && opts.scheduler !== false) || kind === 'scheduler') {
      const schedulerPool = kind === 'start' ? openPool(db.url, 'hostrun-scheduler', 3, shutdown) : pool;
      const scheduler = await startScheduler({ pool: schedulerPool, databaseUrl: db.url, logger: logger.child({ component: 'scheduler' }) });
      shutdown.add('scheduler', () => scheduler.stop());
      logger.info('scheduler started');
    }
    if (kind === 'start' || kind === 'server') {
      await serve({ pool, db, port, bind, config, logger, shutdown, secretKey });
    } else {
      process.stderr.write(`hostrun ${kind} running against ${redactUrl(db.url)}; Ctrl-C stops it\n`);
    }
  } catch (err) {
    await shutdown.run();
    throw err;
  }
  await exitOnSignal(shutdown, logger);
}

function openPool(url: string, name: string, max: number, shutdown: Shutdown): Pool {
  const pool = createPool(url, { max, applicationName: name });
  shutdown.add(`${name} pool`, () => pool.end());
  return pool;
}

async function serve(args: {
  pool: Pool;
  db: ResolvedDatabase;
  port: number;
  bind: string;
  config: Config;
  logger: Logger;
  shutdown: Shutdown;
  secretKey: SecretKey | undefined;
}): Promise<void> {
  const token = await adminTokenEnsure(args.pool, args.config.home);
  const server = await startServer({
    pool: args.pool,
    databaseUrl: args.db.url,
    secretKey: args.secretKey,
    port: args.port,
    host: args.bind,
    logger: args.logger.child({ component: 'server' }),
  });
  args.shutdown.add('server', () => server.stop());
  // The banner goes to stderr: stdout carries the JSON log lines, for whatever collects them.
  const lines = [
    `Hostrun is running at ${server.url}`,
    `  database:    ${args.db.embedded ? `embedded PostgreSQL in ${path.join(args.config.home, 'pg')}` : redactUrl(args.db.url)}`,
    `  admin token: ${token.file}${token.created ? ' (new)' : ''}; the CLI on this machine finds it (or set HOSTRUN_TOKEN)`,
    `  try:         npx hostrun job apply -f <job.yaml>, then npx hostrun run <job> --follow`,
    `  stop:        Ctrl-C`,
  ];
  if (args.config.url !== server.url) lines.splice(1, 0, `  CLI elsewhere: HOSTRUN_URL=${server.url}`);
  if (server.setupToken) lines.push(...setupBanner(server.url, server.setupToken));
  process.stderr.write(lines.join('\n') + '\n');
}
