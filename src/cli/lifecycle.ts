import { createServer } from 'node:net';
import type { Logger } from 'pino';
import { HostrunError } from '../core/errors.ts';
import { startEmbeddedPostgres } from '../db/embedded.ts';
import type { Config } from './config.ts';

// What the long-running commands (start, server, worker, scheduler) share: finding the
// database, and stopping in order on SIGINT/SIGTERM.

export interface ResolvedDatabase {
  url: string;
  embedded: boolean;
}

/**
 * DATABASE_URL when set. Otherwise `start` runs the embedded Postgres in HOSTRUN_HOME (and
 * registers its stop); split processes refuse, because two processes cannot share one
 * embedded database and each would otherwise get its own empty one.
 */
export async function resolveDatabase(config: Config, command: string, shutdown: Shutdown): Promise<ResolvedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false };
  if (command !== 'start') {
    throw new HostrunError(
      'invalid_request',
      `\`hostrun ${command}\` needs DATABASE_URL (the Postgres shared by server, workers and schedulers); ` +
        'to run everything in one process with an embedded database, use `hostrun start`',
    );
  }
  const pg = await startEmbeddedPostgres(config.home);
  shutdown.add('embedded postgres', () => pg.stop());
  return { url: pg.url, embedded: true };
}

/** Cleanups run in reverse order of registration: the last thing started stops first. */
export class Shutdown {
  private readonly steps: { name: string; fn: () => Promise<void> }[] = [];

  constructor(private readonly logger: Logger) {}

  add(name: string, fn: () => Promise<void>): void {
    this.steps.push({ name, fn });
  }

  async run(): Promise<boolean> {
    let clean = true;
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.fn();
      } catch (err) {
        clean = false;
        this.logger.error({ err }, `stopping ${step.name} failed`);
      }
    }
    return clean;
  }
}

/**
 * Waits for SIGINT or SIGTERM, then stops everything once and exits (0 when it stopped
 * cleanly). A second signal while stopping exits at once. A crash (an exception nothing
 * caught) is logged and stops everything the same way, with exit code 1, so the embedded
 * Postgres is not left running behind a dead process.
 */
export function exitOnSignal(shutdown: Shutdown, logger: Logger): Promise<never> {
  return new Promise<never>(() => {
    let stopping = false;
    const stop = (exitCode: number) => {
      stopping = true;
      void shutdown.run().then(
        (clean) => process.exit(clean ? exitCode : 1),
        () => process.exit(1),
      );
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now without waiting');
        process.exit(130);
      }
      logger.info({ signal }, 'stopping (send the signal again to force)');
      stop(0);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('uncaughtException', (err) => {
      logger.fatal({ err }, 'uncaught exception; stopping');
      if (stopping) process.exit(1);
      stop(1);
    });
  });
}

/**
 * Fails fast when the HTTP port is taken, typically by a Hostrun already running: starting the
 * embedded database first would stop the running one's Postgres (it looks like a stray).
 */
export function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const message =
        err.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is already in use (is Hostrun already running? \`hostrun runs\` talks to it); stop it, or set HOSTRUN_PORT`
          : `cannot listen on ${host}:${port} (${err.code ?? err.message}): check HOSTRUN_BIND and HOSTRUN_PORT`;
      reject(new HostrunError('conflict', message, { cause: err }));
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
