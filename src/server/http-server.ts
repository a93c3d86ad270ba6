import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Logger } from 'pino';
import { HostrunError } from '../core/errors.ts';
import type { Pool } from '../db/pool.ts';
import { setupTokenIssue } from '../db/setup-tokens.ts';
import { createApp } from './app.ts';
import { startRunFeed } from './run-feed.ts';
import type { SecretKey } from '../secrets/crypto.ts';

export interface ServerOptions {
  pool: Pool;
  /** For the feed's own LISTEN connection, which must not be a pooled one. */
  databaseUrl: string;
  port: number;
  host: string;
  logger: Logger;
  secretKey?: SecretKey;
}

export interface RunningServer {
  url: string;
  port: number;
  /** While the installation has no user: the one-time token that creates the first one. */
  setupToken: string | null;
  /** Stops accepting requests, ends live log streams, then waits for requests in flight. */
  stop(graceMs?: number): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const feed = await startRunFeed({ databaseUrl: options.databaseUrl, logger });
  const app = createApp({ pool: options.pool, logger, feed, secretKey: options.secretKey, ...authSettingsFromEnv(process.env) });
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(s as Server)) as Server;
      s.once('error', reject);
    });
  } catch (err) {
    await feed.close();
    throw listenError(err, options);
  }
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  logger.info({ url }, 'server listening');

  const setupToken = await setupTokenIssue(options.pool);
  let stopping: Promise<void> | null = null;
  return {
    url,
    port,
    setupToken,
    stop(graceMs = 5000) {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Log streams would hold their connections open forever: ending the feed ends them.
        await feed.close();
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        await closed;
        clearTimeout(force);
        logger.info('server stopped');
      })();
      return stopping;
    },
  };
}

function listenError(err: unknown, options: ServerOptions): HostrunError {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE') {
    return new HostrunError('conflict', `port ${options.port} on ${options.host} is already in use: stop what uses it, or set HOSTRUN_PORT (--port)`, { cause: err });
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new HostrunError('conflict', `cannot listen on ${options.host}:${options.port} (${code}): check HOSTRUN_BIND and HOSTRUN_PORT`, { cause: err });
  }
  return new HostrunError('internal', `cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`, { cause: err });
}

/**
 * Settings of the API from the environment:
 *   SUPABASE_JWT_SECRET, SUPABASE_JWKS_URL, SUPABASE_JWT_AUDIENCE   accept Supabase access tokens
 *   HOSTRUN_TRUST_PROXY=1           believe X-Forwarded-For / -Proto (behind a reverse proxy)
 *   HOSTRUN_ARTIFACT_DAYS (30), HOSTRUN_ARTIFACT_MAX_MB (100)
 */
export function authSettingsFromEnv(env: NodeJS.ProcessEnv) {
  const number = (name: string, fallback: number) => {
    const n = Number(env[name]);
    return env[name] && Number.isFinite(n) && n > 0 ? n : fallback;
  };
  return {
    supabase: {
      ...(env.SUPABASE_JWT_SECRET ? { jwtSecret: env.SUPABASE_JWT_SECRET } : {}),
      ...(env.SUPABASE_JWKS_URL ? { jwksUrl: env.SUPABASE_JWKS_URL } : {}),
      ...(env.SUPABASE_JWT_AUDIENCE ? { audience: env.SUPABASE_JWT_AUDIENCE } : {}),
    },
    trustProxy: env.HOSTRUN_TRUST_PROXY === '1' || env.HOSTRUN_TRUST_PROXY === 'true',
    artifacts: { retentionDays: number('HOSTRUN_ARTIFACT_DAYS', 30), maxBytes: number('HOSTRUN_ARTIFACT_MAX_MB', 100) * 1024 * 1024 },
  };
}

/** What `hostrun start` prints while there is no user: how to create the first one. */
export function setupBanner(url: string, token: string): string[] {
  return [
    `  first user:  no user exists yet; create the first (a superadmin) within 24 h in the browser at`,
    `               ${url}/setup?token=${token}`,
    `               or with npx hostrun user create --setup-token ${token} --email you@example.com`,
    `               (or POST ${url}/api/v1/setup with { "setup_token", "email", "password" }); this token works once`,
  ];
}
