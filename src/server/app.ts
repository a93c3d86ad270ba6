import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import pino, { type Logger } from 'pino';
import { HostrunError } from '../core/errors.ts';
import type { Pool } from '../db/pool.ts';
import type { SecretKey } from '../secrets/crypto.ts';
import { artifactsRoutes } from './artifacts-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { authRoutes } from './auth-routes.ts';
import { accessControl, Authenticator, type AppEnv } from './auth.ts';
import type { AppDeps } from './deps.ts';
import { handleError } from './errors.ts';
import { eventsRoutes } from './events-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { hostsRoutes } from './hosts-routes.ts';
import { jobsRoutes } from './jobs-routes.ts';
import { LoginLimiter } from './login-limiter.ts';
import { membersRoutes } from './members-routes.ts';
import { openApiDocument } from './openapi.ts';
import { mountRoutes, OperationRegistry, Routes } from './operations.ts';
import { projectsRoutes } from './projects-routes.ts';
import { reportsRoutes } from './reports-routes.ts';
import { REPORTS_OPERATIONS } from './route-catalog.ts';
import { pollingRunFeed, type RunFeed } from './run-feed.ts';
import { runUiRoutes } from './run-ui-routes.ts';
import { runsRoutes } from './runs-routes.ts';
import { schedulesRoutes } from './schedules-routes.ts';
import { secretsRoutes } from './secrets-routes.ts';
import { seedRoutes } from './seed-routes.ts';
import { SupabaseVerifier, supabaseConfigured, type SupabaseAuthConfig } from './supabase-jwt.ts';
import { tokensRoutes } from './tokens-routes.ts';
import { usersRoutes } from './users-routes.ts';
import { webhooksRoutes } from './webhooks-routes.ts';
import { webUiHandler } from './web-ui.ts';
import { workersRoutes } from './workers-routes.ts';

// The HTTP API as a Hono app, separate from listening: tests call app.request(...) in process,
// http-server.ts puts the same app on a port.
//
//   GET  /healthz, /readyz                 no credentials
//   /api/v1/...                            every resource; each route's access rule is its
//                                          operation's (operations.ts), enforced in auth.ts
//   GET  /api/v1/openapi.json              the OpenAPI 3.1 document of all of them
//   POST /api/save-config, POST /api/run   the seed's endpoints
//   GET  /, /jobs/..., /assets/...         the web UI (web-ui.ts)

export interface CreateAppOptions {
  pool: Pool;
  logger?: Logger;
  /** Wakes log and event streams; without one they poll (fine for tests, not for a server). */
  feed?: RunFeed;
  secretKey?: SecretKey;
  supabase?: SupabaseAuthConfig;
  trustProxy?: boolean;
  artifacts?: { retentionDays?: number; maxBytes?: number };
  /** Shared by the apps of one process, so sign-in throttling holds across them. */
  loginLimiter?: LoginLimiter;
  /** Serve the web UI at / (default on, from web/dist). */
  webUi?: boolean;
  webUiDir?: string;
}

/** Job specs and run inputs are small; anything bigger is a mistake or an attack. */
const MAX_BODY_BYTES = 1024 * 1024;
const VERSION = '0.1.0';

export function createApp(options: CreateAppOptions): Hono<AppEnv> {
  const deps: AppDeps = {
    pool: options.pool,
    logger: options.logger ?? pino({ level: 'silent' }),
    feed: options.feed ?? pollingRunFeed(),
    secretKey: options.secretKey,
    supabase: supabaseConfigured(options.supabase) ? new SupabaseVerifier(options.supabase) : null,
    trustProxy: options.trustProxy ?? false,
    loginLimiter: options.loginLimiter ?? new LoginLimiter(),
    artifacts: { retentionDays: options.artifacts?.retentionDays ?? 30, maxBytes: options.artifacts?.maxBytes ?? 100 * 1024 * 1024 },
  };
  const app = new Hono<AppEnv>();
  const registry = new OperationRegistry();
  const onError = handleError(deps.logger);
  app.onError(onError);
  // What no API route matches may be the web UI's (a GET outside /api); the rest is a 404.
  const webUi = options.webUi === false ? () => null : webUiHandler(options.webUiDir);
  app.notFound((c) => webUi(c) ?? onError(new HostrunError('not_found', `no route for ${c.req.method} ${c.req.path}`), c));
  app.use(requestLog(deps.logger));

  mountRoutes(app, registry, '/', healthRoutes(deps));
  app.use('/api/*', accessControl(deps, registry, new Authenticator(deps)), sizeLimit(deps));

  const v1 = '/api/v1';
  const docs = new Routes().get('/openapi.json', { tag: 'meta', access: 'public', summary: 'This document' }, (c) => c.json(openApiDocument(registry, VERSION)));
  mountRoutes(app, registry, v1, docs);
  for (const routes of [
    authRoutes(deps),
    usersRoutes(deps),
    projectsRoutes(deps),
    membersRoutes(deps),
    tokensRoutes(deps),
    jobsRoutes(deps),
    runsRoutes(deps),
    runUiRoutes(deps),
    artifactsRoutes(deps),
    schedulesRoutes(deps),
    eventsRoutes(deps),
    webhooksRoutes(deps),
    hostsRoutes(deps),
    secretsRoutes(deps),
    workersRoutes(deps),
    auditRoutes(deps),
  ]) {
    mountRoutes(app, registry, v1, routes);
  }
  mountRoutes(app, registry, v1, { app: reportsRoutes(deps), operations: REPORTS_OPERATIONS });
  mountRoutes(app, registry, '/api', seedRoutes(deps));
  return app;
}

/** Uploads (operations with a raw body, such as artifacts) may be large; everything else is not. */
function sizeLimit(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const small = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => tooLarge(MAX_BODY_BYTES) });
  const large = bodyLimit({ maxSize: deps.artifacts.maxBytes, onError: () => tooLarge(deps.artifacts.maxBytes) });
  return (c, next) => {
    // GET and HEAD carry no body. bodyLimit would still ask the request for one, and on Node
    // that builds a whole undici Request per call (~5 % of the server's CPU on the run list).
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return c.get('operation')?.rawBody === 'application/octet-stream' ? large(c, next) : small(c, next);
  };
}

function tooLarge(max: number): never {
  throw new HostrunError('invalid_request', `the request body is larger than ${max >= 1024 * 1024 ? `${max / 1024 / 1024} MiB` : `${max / 1024} KiB`}`);
}

function requestLog(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const path = c.req.path;
    // Probes hit every few seconds; at info they would drown everything else.
    const level = path === '/healthz' || path === '/readyz' ? 'debug' : 'info';
    logger[level]({ method: c.req.method, path, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  };
}
