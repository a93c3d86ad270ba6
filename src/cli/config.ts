import { existsSync } from 'node:fs';
import path from 'node:path';
import { HostrunError } from '../core/errors.ts';
import { ADMIN_TOKEN_FILE, readTokenFile } from '../server/admin-token.ts';
import { storedToken } from './credentials.ts';

// Settings come from the environment (twelve-factor); command-line flags override them.
//
//   HOSTRUN_HOME                data directory: embedded Postgres, admin token (./.hostrun)
//   DATABASE_URL                Postgres to use; unset: `start` runs an embedded one
//   HOSTRUN_PORT                port the server listens on (8080)
//   HOSTRUN_BIND                address the server listens on (127.0.0.1)
//   HOSTRUN_URL                 where the CLI finds the server (http://127.0.0.1:$HOSTRUN_PORT)
//   HOSTRUN_TOKEN               API token for the CLI (else HOSTRUN_HOME/admin-token)
//   HOSTRUN_WORKER_CONCURRENCY  runs a worker executes at once (8)
//   HOSTRUN_LOG_MAX_MB          output stored per run before it is truncated (64)
//   LOG_LEVEL                   pino level for server-side processes (info)

export interface Config {
  home: string;
  databaseUrl: string | undefined;
  port: number;
  bind: string;
  url: string;
  workerConcurrency: number;
  logMaxBytes: number;
  logLevel: string;
  /** HOSTRUN_HOME was set explicitly (otherwise the default may be found in a parent directory). */
  homeFromEnv: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = intSetting(env, 'HOSTRUN_PORT', 8080, 0, 65535);
  return {
    home: path.resolve(env.HOSTRUN_HOME || '.hostrun'),
    homeFromEnv: Boolean(env.HOSTRUN_HOME),
    databaseUrl: env.DATABASE_URL || undefined,
    port,
    bind: env.HOSTRUN_BIND || '127.0.0.1',
    url: (env.HOSTRUN_URL || `http://127.0.0.1:${port}`).replace(/\/+$/, ''),
    workerConcurrency: intSetting(env, 'HOSTRUN_WORKER_CONCURRENCY', 8, 1, 1000),
    logMaxBytes: intSetting(env, 'HOSTRUN_LOG_MAX_MB', 64, 1, 100_000) * 1024 * 1024,
    logLevel: env.LOG_LEVEL || 'info',
  };
}

/**
 * The CLI's token: HOSTRUN_TOKEN, else the admin token `hostrun start` wrote to HOSTRUN_HOME.
 * With HOSTRUN_HOME unset, parent directories are searched too, so `npx hostrun ...` works
 * from a subdirectory of the one where `npm start` runs.
 */
export function resolveToken(config: Config, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.HOSTRUN_TOKEN) return env.HOSTRUN_TOKEN;
  const loggedIn = storedToken(config.url, env);
  if (loggedIn) return loggedIn;
  const direct = readTokenFile(path.join(config.home, ADMIN_TOKEN_FILE));
  if (direct || config.homeFromEnv) return direct ?? undefined;
  for (let dir = path.dirname(path.dirname(config.home)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, '.hostrun', ADMIN_TOKEN_FILE);
    if (existsSync(file)) return readTokenFile(file) ?? undefined;
    if (path.dirname(dir) === dir) return undefined;
  }
}

export function intSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return parseIntOption(raw, name, min, max);
}

export function parseIntOption(raw: string, name: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max) {
    throw new HostrunError('invalid_request', `${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return n;
}
