import { z } from 'zod';
import { HostrunError, NotFoundError } from '../core/errors.ts';
import { tokenCreate, tokenRevokeInProject, tokensListForProject } from '../db/tokens.ts';
import { roleAtLeast } from './auth.ts';
import { expiresAt } from './auth-routes.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { parseBody } from './validation.ts';

// /api/v1/tokens: the request's project's API tokens (for CI, scripts, agents). A token acts in
// its project only, with its role; the secret is shown once, at creation. Nobody creates a token
// with a role above their own.

const TokenBody = z.strictObject({
  name: z.string().min(1).max(100),
  role: z.enum(['viewer', 'developer', 'admin', 'owner']),
  expires_at: expiresAt.optional(),
});

export function tokensRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool } = deps;
  const tag = 'tokens';

  r.get('/tokens', { tag, access: 'admin', does: 'list tokens', summary: "The project's tokens (never their secrets)" }, async (c) => {
    return c.json({ tokens: await tokensListForProject(pool, c.get('principal').projectId) });
  });

  r.post('/tokens', { tag, access: 'admin', does: 'create tokens', audit: 'token.create', summary: 'Create a project token; the secret is in this answer only', body: TokenBody }, async (c) => {
    const principal = c.get('principal');
    const body = await parseBody(c, TokenBody);
    if (!principal.isSuperadmin && !roleAtLeast(principal.role, body.role)) {
      throw new HostrunError('forbidden', `${principal.role} cannot create ${body.role} tokens in project ${principal.projectSlug}`);
    }
    const created = await tokenCreate(pool, {
      name: body.name,
      projectId: principal.projectId,
      role: body.role,
      ...(principal.userId ? { createdBy: principal.userId } : {}),
      ...(body.expires_at ? { expiresAt: body.expires_at } : {}),
    });
    c.set('audit', { resourceId: created.id, details: { name: body.name, role: body.role } });
    return c.json({ id: created.id, name: body.name, role: body.role, project: principal.projectSlug, token: created.token, expires_at: body.expires_at ?? null }, 201);
  });

  r.delete('/tokens/:id', { tag, access: 'admin', does: 'revoke tokens', audit: 'token.revoke', summary: 'Revoke a project token' }, async (c) => {
    const id = c.req.param('id');
    const token = await tokenRevokeInProject(pool, id, c.get('principal').projectId);
    if (!token) throw new NotFoundError(`token ${id}`);
    return c.json(token);
  });

  return r;
}
