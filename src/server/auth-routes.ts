import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { HostrunError, NotFoundError } from '../core/errors.ts';
import { auditRecord } from '../db/audit.ts';
import { projectsList, projectsListForUser } from '../db/projects.ts';
import { sessionCreate, sessionRevoke } from '../db/sessions.ts';
import { setupTokenRedeem } from '../db/setup-tokens.ts';
import { tokenCreate, tokenRevokeForUser, tokensListForUser } from '../db/tokens.ts';
import { userCreate, userGet, userGetByEmail, type UserRow } from '../db/users.ts';
import { clientIp, SESSION_COOKIE, type AppEnv } from './auth.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { PASSWORD_MIN_LENGTH, passwordHash, passwordVerify } from './passwords.ts';
import { parseBody } from './validation.ts';

// Signing in and who am I:
//   POST /setup          the first user, with the one-time token `hostrun start` printed
//   POST /auth/login     a browser session (HttpOnly cookie) and its CSRF token
//   POST /auth/token     a personal API token for the CLI (`hostrun login`)
//   POST /auth/logout    ends the session
//   GET  /me             the caller: user, projects and roles
//   /me/tokens           the caller's personal tokens

export const email = z.email().max(254);
export const password = z.string().min(PASSWORD_MIN_LENGTH, `at least ${PASSWORD_MIN_LENGTH} characters`).max(1024);
/** A future time, as an ISO 8601 string with an offset. */
export const expiresAt = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .refine((d) => d.getTime() > Date.now(), 'must be in the future');

const SetupBody = z.strictObject({ setup_token: z.string().min(1), email, password, name: z.string().min(1).max(200).optional() });
const LoginBody = z.strictObject({ email, password: z.string().min(1).max(1024) });
const TokenLoginBody = z.strictObject({
  email,
  password: z.string().min(1).max(1024),
  name: z.string().min(1).max(100).optional(),
  expires_at: expiresAt.optional(),
});
const PersonalTokenBody = z.strictObject({ name: z.string().min(1).max(100), expires_at: expiresAt.optional() });

const SESSION_SECONDS = 7 * 24 * 3600;

export function userView(u: UserRow) {
  return { id: u.id, email: u.email, name: u.name, is_superadmin: u.is_superadmin, created_at: u.created_at, disabled_at: u.disabled_at };
}

function isHttps(c: Context, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  return trustProxy && c.req.header('x-forwarded-proto') === 'https';
}

export function authRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool, loginLimiter } = deps;
  const tag = 'auth';

  /** Checks a password sign-in under the rate limit; failures are audited, successes by the caller. */
  async function signIn(c: Context<AppEnv>, emailAddress: string, pw: string): Promise<UserRow> {
    const ip = clientIp(c, deps.trustProxy) ?? 'unknown';
    loginLimiter.check(ip, emailAddress);
    const user = await userGetByEmail(pool, emailAddress);
    const ok = await passwordVerify(user?.password_hash ?? null, pw);
    if (!user || !ok || user.disabled_at) {
      loginLimiter.fail(ip, emailAddress);
      await auditRecord(pool, {
        projectId: null, actorUserId: user?.id ?? null, actorTokenId: null, actor: emailAddress,
        action: 'auth.login_failed', resourceType: 'user', resourceId: user?.id ?? null, ip, details: null,
      });
      throw new HostrunError('unauthorized', 'wrong email or password');
    }
    loginLimiter.succeed(ip, emailAddress);
    const { password_hash: _hidden, ...row } = user;
    c.set('audit', { actor: { label: row.email, userId: row.id }, projectId: null, resourceType: 'user', resourceId: row.id });
    return row;
  }

  r.post('/setup', { tag, access: 'public', audit: 'user.setup', summary: 'Create the first user (a superadmin) with the setup token', body: SetupBody }, async (c) => {
    const body = await parseBody(c, SetupBody);
    const hash = await passwordHash(body.password);
    const user = await setupTokenRedeem(pool, body.setup_token, (tx) =>
      userCreate(tx, { email: body.email, name: body.name ?? null, passwordHash: hash, isSuperadmin: true }),
    );
    if (!user) throw new HostrunError('unauthorized', 'invalid or used setup token (restart `hostrun start` for a new one while no user exists)');
    c.set('audit', { actor: { label: user.email, userId: user.id }, projectId: null, resourceType: 'user', resourceId: user.id });
    return c.json({ user: userView(user) }, 201);
  });

  r.post('/auth/login', { tag, access: 'public', audit: 'auth.login', summary: 'Sign in: a session cookie and its CSRF token', body: LoginBody }, async (c) => {
    const body = await parseBody(c, LoginBody);
    const user = await signIn(c, body.email, body.password);
    const { session, secret } = await sessionCreate(pool, {
      userId: user.id,
      ip: clientIp(c, deps.trustProxy),
      userAgent: c.req.header('user-agent') ?? null,
      lifetimeSeconds: SESSION_SECONDS,
    });
    setCookie(c, SESSION_COOKIE, secret, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: isHttps(c, deps.trustProxy),
      path: '/',
      maxAge: SESSION_SECONDS,
    });
    return c.json({ user: userView(user), csrf_token: session.csrf_token, expires_at: session.expires_at });
  });

  r.post('/auth/token', { tag, access: 'public', audit: 'token.create', summary: 'Sign in for the CLI: a personal API token, shown once', body: TokenLoginBody }, async (c) => {
    const body = await parseBody(c, TokenLoginBody);
    const user = await signIn(c, body.email, body.password);
    const created = await tokenCreate(pool, {
      name: body.name ?? 'hostrun login',
      userId: user.id,
      createdBy: user.id,
      ...(body.expires_at ? { expiresAt: body.expires_at } : {}),
    });
    c.set('audit', { actor: { label: user.email, userId: user.id }, projectId: null, resourceType: 'token', resourceId: created.id });
    return c.json({ id: created.id, token: created.token, user: userView(user), expires_at: body.expires_at ?? null }, 201);
  });

  r.post('/auth/logout', { tag, access: 'signed-in', audit: 'auth.logout', summary: 'End the browser session' }, async (c) => {
    const identity = c.get('identity');
    if (identity.sessionId) await sessionRevoke(pool, identity.sessionId);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    c.set('audit', { projectId: null, resourceType: 'session', resourceId: identity.sessionId });
    return c.json({ signed_out: true });
  });

  r.get('/me', { tag, access: 'signed-in', summary: 'Who the caller is, and its projects and roles' }, async (c) => {
    const identity = c.get('identity');
    const user = identity.userId ? await userGet(pool, identity.userId) : null;
    let projects;
    if (identity.scope) {
      projects = [{ id: identity.scope.projectId, slug: identity.scope.projectSlug, role: identity.scope.role }];
    } else if (identity.isSuperadmin) {
      projects = (await projectsList(pool)).map(({ id, slug, name, role }) => ({ id, slug, name, role }));
    } else {
      projects = user ? (await projectsListForUser(pool, user.id)).map(({ id, slug, name, role }) => ({ id, slug, name, role })) : [];
    }
    return c.json({
      kind: identity.kind,
      user: user ? userView(user) : null,
      is_superadmin: identity.isSuperadmin,
      token: identity.tokenId ? { id: identity.tokenId, scope: identity.scope ? { project: identity.scope.projectSlug, role: identity.scope.role } : null } : null,
      projects,
      ...(identity.csrfToken ? { csrf_token: identity.csrfToken } : {}),
    });
  });

  r.get('/me/tokens', { tag: 'tokens', access: 'user', does: 'list personal tokens', summary: "The caller's personal tokens" }, async (c) => {
    return c.json({ tokens: await tokensListForUser(pool, c.get('identity').userId!) });
  });

  r.post('/me/tokens', { tag: 'tokens', access: 'user', does: 'create personal tokens', audit: 'token.create', summary: 'A new personal token, shown once', body: PersonalTokenBody }, async (c) => {
    const identity = c.get('identity');
    const body = await parseBody(c, PersonalTokenBody);
    const created = await tokenCreate(pool, {
      name: body.name,
      userId: identity.userId!,
      createdBy: identity.userId!,
      ...(body.expires_at ? { expiresAt: body.expires_at } : {}),
    });
    c.set('audit', { projectId: null, resourceType: 'token', resourceId: created.id });
    return c.json({ id: created.id, name: body.name, token: created.token, expires_at: body.expires_at ?? null }, 201);
  });

  r.delete('/me/tokens/:id', { tag: 'tokens', access: 'user', does: 'revoke personal tokens', audit: 'token.revoke', summary: 'Revoke one of your personal tokens' }, async (c) => {
    const id = c.req.param('id');
    const token = await tokenRevokeForUser(pool, id, c.get('identity').userId!);
    if (!token) throw new NotFoundError(`token ${id}`);
    c.set('audit', { projectId: null, resourceType: 'token' });
    return c.json(token);
  });

  return r;
}
