import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { matchedRoutes } from 'hono/route';
import { HostrunError, NotFoundError } from '../core/errors.ts';
import { auditRecord } from '../db/audit.ts';
import { memberGet } from '../db/members.ts';
import { DEFAULT_PROJECT_SLUG, projectAccessBySlug, projectGetBySlug } from '../db/projects.ts';
import { sessionFindActive } from '../db/sessions.ts';
import { tokenAuthenticate, tokenHash, tokenTouch, TOKEN_PREFIX, type MemberRole, type TokenAuthRow } from '../db/tokens.ts';
import { userGetByEmail, userGetByExternalId, userLinkExternalId, type UserRow } from '../db/users.ts';
import type { AppDeps } from './deps.ts';
import { pathParams, type Operation, type OperationRegistry } from './operations.ts';
import { looksLikeJwt } from './supabase-jwt.ts';

// Who is calling, and may they? Three kinds of credential:
//   Authorization: Bearer hr_...   an API token (admin, project-scoped, or a user's personal one)
//   Authorization: Bearer eyJ...   a Supabase access token, when Supabase Auth is configured
//   Cookie: hostrun_session=...    a browser session; changes also need X-Hostrun-CSRF
// Then the request's project: the `X-Hostrun-Project` header (or the path, for /projects/:slug),
// else a project token's own project, else `default`. A project the caller cannot see answers
// 404, exactly like one that does not exist.

export type { MemberRole };

export const ROLE_RANK: Record<MemberRole, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };
export const SESSION_COOKIE = 'hostrun_session';
export const CSRF_HEADER = 'x-hostrun-csrf';
export const PROJECT_HEADER = 'x-hostrun-project';

export interface Identity {
  kind: 'token' | 'session' | 'supabase';
  userId: string | null;
  tokenId: string | null;
  sessionId: string | null;
  isSuperadmin: boolean;
  /** A project token acts in its project only, with at most this role. */
  scope: { projectId: string; projectSlug: string; role: MemberRole } | null;
  /** For the audit log: `ada@example.com`, `token ci-deploy`. */
  label: string;
  csrfToken: string | null;
}

/** The caller in the request's project. */
export interface Principal extends Identity {
  projectId: string;
  projectSlug: string;
  role: MemberRole;
}

/** What a handler may add to the audit entry of its operation. */
export interface AuditNote {
  resourceType?: string;
  resourceId?: string | null;
  projectId?: string | null;
  details?: Record<string, unknown>;
  /** Public operations (sign-in, setup) name their actor once they know it. */
  actor?: { label: string; userId?: string | null };
}

export type AppEnv = {
  Variables: { identity: Identity; principal: Principal; operation: Operation; audit: AuditNote | undefined };
};

// last_used_at is for humans auditing tokens; a write per request would cost more than it says.
const TOUCH_INTERVAL_MS = 60_000;
// How long a verified API token is believed without asking the database again. The lookup (a
// three-table join, parsed and planned on every call) was a quarter of Postgres's work per
// request on the run list under load. This process forgets every remembered token whenever it
// handles a change (any request other than GET/HEAD/OPTIONS: revoking a token, removing a
// member, disabling a user, renaming a project are all such requests), so those take effect
// here at once; a change made elsewhere (another server process, SQL by hand, a token's
// expires_at passing) takes effect here within this bound.
export const TOKEN_CACHE_MS = 1000;
const TOKEN_CACHE_MAX = 1000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function roleAtLeast(role: MemberRole, needed: MemberRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[needed];
}

export function lowerRole(a: MemberRole, b: MemberRole): MemberRole {
  return ROLE_RANK[a] <= ROLE_RANK[b] ? a : b;
}

/** The caller's address: the socket's, or X-Forwarded-For's first hop behind a trusted proxy. */
export function clientIp(c: Context, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? null;
}

/** Verified tokens by the hash of their secret, each for TOKEN_CACHE_MS at most. */
class TokenCache {
  private readonly entries = new Map<string, { row: TokenAuthRow; until: number }>();
  // Bumped by forget(): a lookup that began before a change must not store what it read then.
  private generation = 0;

  get(key: string, now: number): TokenAuthRow | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.until > now) return entry.row;
    this.entries.delete(key);
    return null;
  }

  get currentGeneration(): number {
    return this.generation;
  }

  set(key: string, row: TokenAuthRow, generation: number, now: number): void {
    if (generation !== this.generation) return;
    // Bounded: the oldest entry (Maps keep insertion order) makes room.
    if (this.entries.size >= TOKEN_CACHE_MAX && !this.entries.has(key)) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { row, until: now + TOKEN_CACHE_MS });
  }

  forget(): void {
    this.generation++;
    this.entries.clear();
  }
}

export class Authenticator {
  private readonly touchedAt = new Map<string, number>();
  private readonly tokens = new TokenCache();

  constructor(private readonly deps: AppDeps) {}

  /** Drops every remembered token: called after each request that may have changed one. */
  forgetTokens(): void {
    this.tokens.forget();
  }

  /** The identity behind the request's credential; null when it carries none. */
  async identify(c: Context): Promise<Identity | null> {
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw new HostrunError('unauthorized', 'malformed Authorization header: send "Authorization: Bearer <token>"');
      const credential = match[1]!;
      if (credential.startsWith(TOKEN_PREFIX)) return this.fromToken(credential);
      if (this.deps.supabase && looksLikeJwt(credential)) return this.fromSupabase(credential);
      throw new HostrunError('unauthorized', 'invalid, expired or revoked token');
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) {
      const session = await sessionFindActive(this.deps.pool, cookie);
      if (!session) throw new HostrunError('unauthorized', 'your session has ended: sign in again');
      const user = await this.user(session.user_id);
      return {
        kind: 'session',
        userId: user.id,
        tokenId: null,
        sessionId: session.id,
        isSuperadmin: user.is_superadmin,
        scope: null,
        label: user.email,
        csrfToken: session.csrf_token,
      };
    }
    return null;
  }

  private async fromToken(secret: string): Promise<Identity> {
    // Keyed by the hash, as the database does: the cache holds no secrets.
    const key = tokenHash(secret).toString('base64');
    let now = Date.now();
    let token = this.tokens.get(key, now);
    if (!token) {
      const generation = this.tokens.currentGeneration;
      token = await tokenAuthenticate(this.deps.pool, secret);
      if (!token) throw new HostrunError('unauthorized', 'invalid, expired or revoked token');
      now = Date.now();
      this.tokens.set(key, token, generation, now);
    }
    if (now - (this.touchedAt.get(token.id) ?? 0) >= TOUCH_INTERVAL_MS) {
      this.touchedAt.set(token.id, now);
      tokenTouch(this.deps.pool, token.id).catch((err: unknown) => this.deps.logger.warn({ err }, 'could not record token use'));
    }
    const scoped = token.project_id && token.project_slug && token.role;
    return {
      kind: 'token',
      userId: token.user_id,
      tokenId: token.id,
      sessionId: null,
      isSuperadmin: token.is_superadmin || (token.user_id !== null && token.user_is_superadmin && !scoped),
      scope: scoped ? { projectId: token.project_id!, projectSlug: token.project_slug!, role: token.role! } : null,
      label: token.user_email ? `${token.user_email} (token ${token.name})` : `token ${token.name}`,
      csrfToken: null,
    };
  }

  private async fromSupabase(jwt: string): Promise<Identity> {
    const claims = await this.deps.supabase!.verify(jwt);
    let user = await userGetByExternalId(this.deps.pool, claims.sub);
    if (!user && claims.email) {
      // First sign-in of a Supabase account: link it to the Hostrun user with its email.
      const byEmail = await userGetByEmail(this.deps.pool, claims.email);
      if (byEmail && byEmail.external_id === null) user = await userLinkExternalId(this.deps.pool, byEmail.id, claims.sub);
    }
    if (!user || user.disabled_at) {
      throw new HostrunError('unauthorized', `no Hostrun user for this Supabase account${claims.email ? ` (${claims.email})` : ''}: ask an admin to create one`);
    }
    return {
      kind: 'supabase',
      userId: user.id,
      tokenId: null,
      sessionId: null,
      isSuperadmin: user.is_superadmin,
      scope: null,
      label: user.email,
      csrfToken: null,
    };
  }

  private async user(id: string): Promise<UserRow> {
    const { rows } = await this.deps.pool.query<UserRow>(`SELECT id, email, name, is_superadmin, external_id, created_at, disabled_at FROM hostrun.users WHERE id = $1`, [id]);
    const user = rows[0];
    if (!user || user.disabled_at) throw new HostrunError('unauthorized', 'this account is disabled');
    return user;
  }

  /**
   * The caller's role in the project named by `slug` (or implied). `mismatch` says how to answer
   * a project token asked about another project: 403 when the project came from a header (the
   * caller chose it; say why), 404 when it came from the path (a resource elsewhere).
   */
  async resolveProject(identity: Identity, slug: string | undefined, mismatch: 'forbidden' | 'not_found'): Promise<Principal> {
    const { pool } = this.deps;
    if (identity.scope) {
      const { scope } = identity;
      if (slug !== undefined && slug !== scope.projectSlug) {
        if (mismatch === 'not_found') throw new NotFoundError(`project "${slug}"`);
        throw new HostrunError('forbidden', `this token belongs to project ${scope.projectSlug}; it cannot act in project ${slug}`);
      }
      let role = scope.role;
      if (identity.userId && !identity.isSuperadmin) {
        // A token made by a user never outranks that user: losing membership disarms it.
        const member = await memberGet(pool, scope.projectId, identity.userId);
        if (!member) throw new HostrunError('forbidden', `the user of this token is no longer a member of project ${scope.projectSlug}`);
        role = lowerRole(role, member.role);
      }
      return { ...identity, projectId: scope.projectId, projectSlug: scope.projectSlug, role };
    }
    const wanted = slug ?? DEFAULT_PROJECT_SLUG;
    if (identity.isSuperadmin) {
      const project = await projectGetBySlug(pool, wanted);
      if (!project) throw new NotFoundError(`project "${wanted}"`);
      return { ...identity, projectId: project.id, projectSlug: project.slug, role: 'owner' };
    }
    if (identity.userId) {
      const access = await projectAccessBySlug(pool, wanted, identity.userId);
      if (!access) throw new NotFoundError(`project "${wanted}"`);
      return { ...identity, projectId: access.id, projectSlug: access.slug, role: access.role };
    }
    throw new NotFoundError(`project "${wanted}"`);
  }
}

/**
 * The one gate of /api: finds the operation of the matched route, authenticates as it
 * requires, resolves the project and checks the role, enforces CSRF for cookie sessions, and
 * afterwards writes the audit entry of a successful change.
 */
export function accessControl(deps: AppDeps, registry: OperationRegistry, auth: Authenticator): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const route = matchedRoutes(c).find((r) => r.method !== 'ALL');
    // No route: let the request fall through to the 404.
    if (!route) return next();
    const op = registry.find(c.req.method === 'HEAD' ? 'GET' : c.req.method, route.path);
    if (!op) throw new HostrunError('internal', `${route.method} ${route.path} has no access rule`);
    c.set('operation', op);

    let identity: Identity | null = null;
    if (op.access !== 'public') {
      identity = await auth.identify(c);
      if (!identity) throw new HostrunError('unauthorized', 'missing credentials: send "Authorization: Bearer <token>" (or sign in)');
      if (identity.kind === 'session' && !SAFE_METHODS.has(c.req.method)) checkCsrf(c, identity);
      c.set('identity', identity);
      await authorize(c, op, identity, auth, route.path);
    }

    if (SAFE_METHODS.has(c.req.method)) return next();
    try {
      await next();
    } finally {
      // Whatever this request changed (or half changed before failing), no token is believed
      // on the strength of an earlier lookup.
      auth.forgetTokens();
    }

    if (op.audit && c.res.status < 400) {
      await recordAudit(c, deps, op, route.path, identity).catch((err: unknown) =>
        deps.logger.error({ err, action: op.audit }, 'could not write the audit log entry'),
      );
    }
  };
}

async function authorize(c: Context<AppEnv>, op: Operation, identity: Identity, auth: Authenticator, pattern: string): Promise<void> {
  const does = op.does ?? 'do this';
  switch (op.access) {
    case 'public':
    case 'signed-in':
      return;
    case 'user':
      if (!identity.userId || identity.scope) {
        throw new HostrunError('forbidden', `a project token cannot ${does}: sign in, or use a personal token (hostrun login)`);
      }
      return;
    case 'unscoped':
      if (identity.scope) throw new HostrunError('forbidden', `a project token cannot ${does}: sign in, or use a personal token (hostrun login)`);
      return;
    case 'superadmin':
      if (!identity.isSuperadmin) throw new HostrunError('forbidden', `only a superadmin can ${does}`);
      return;
    default: {
      const fromPath = op.projectParam ? pathParams(pattern, c.req.path)[op.projectParam] : undefined;
      const fromHeader = c.req.header(PROJECT_HEADER)?.trim() || undefined;
      const principal = await auth.resolveProject(identity, fromPath ?? fromHeader, fromPath !== undefined ? 'not_found' : 'forbidden');
      if (!roleAtLeast(principal.role, op.access)) {
        throw new HostrunError('forbidden', `${principal.role} cannot ${does} in project ${principal.projectSlug}`);
      }
      c.set('principal', principal);
    }
  }
}

function checkCsrf(c: Context, identity: Identity): void {
  const sent = Buffer.from(c.req.header(CSRF_HEADER) ?? '');
  const expected = Buffer.from(identity.csrfToken ?? '');
  if (expected.length === 0 || sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
    throw new HostrunError('forbidden', `missing or wrong ${CSRF_HEADER} header: send the csrf_token you got at sign-in`);
  }
}

async function recordAudit(c: Context<AppEnv>, deps: AppDeps, op: Operation, pattern: string, identity: Identity | null): Promise<void> {
  const note = c.get('audit') ?? {};
  const principal = c.get('principal') as Principal | undefined;
  const params = pathParams(pattern, c.req.path);
  const firstParam = Object.values(params)[0] ?? null;
  await auditRecord(deps.pool, {
    projectId: note.projectId !== undefined ? note.projectId : (principal?.projectId ?? null),
    actorUserId: note.actor?.userId ?? identity?.userId ?? null,
    actorTokenId: identity?.tokenId ?? null,
    actor: note.actor?.label ?? identity?.label ?? 'anonymous',
    action: op.audit!,
    resourceType: note.resourceType ?? op.tag,
    resourceId: note.resourceId !== undefined ? note.resourceId : firstParam,
    ip: clientIp(c, deps.trustProxy),
    details: { ...(Object.keys(params).length > 0 ? { params } : {}), ...note.details },
  });
}

/**
 * A second, local check for route modules that guard routes themselves (hosts, secrets). The
 * operation's access rule (route-catalog.ts) is what grants access; this only refuses.
 */
export function requireRole(role: MemberRole): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal') as Principal | undefined;
    if (!principal || !roleAtLeast(principal.role, role)) {
      const op = c.get('operation') as Operation | undefined;
      throw new HostrunError('forbidden', `${principal?.role ?? 'this caller'} cannot ${op?.does ?? 'do this'}${principal ? ` in project ${principal.projectSlug}` : ''}`);
    }
    await next();
  };
}
