import { z } from 'zod';
import { ConflictError, HostrunError, NotFoundError } from '../core/errors.ts';
import { userCreate, userGetByEmail, userUpdate, usersList } from '../db/users.ts';
import { email, password, userView } from './auth-routes.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { passwordHash } from './passwords.ts';
import { parseBody } from './validation.ts';

// /api/v1/users: the installation's accounts, managed by superadmins. Project access is
// membership (members-routes.ts); a user without any membership sees nothing.

const UserBody = z.strictObject({
  email,
  name: z.string().min(1).max(200).optional(),
  /** Leave out for users who sign in through Supabase only. */
  password: password.optional(),
  superadmin: z.boolean().optional(),
});

const UserPatch = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  password: password.optional(),
  superadmin: z.boolean().optional(),
  disabled: z.boolean().optional(),
});

export function usersRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool } = deps;
  const tag = 'users';

  r.get('/users', { tag, access: 'superadmin', does: 'list users', summary: 'Every user' }, async (c) => {
    return c.json({ users: (await usersList(pool)).map(userView) });
  });

  r.post('/users', { tag, access: 'superadmin', does: 'create users', audit: 'user.create', summary: 'Create a user', body: UserBody }, async (c) => {
    const body = await parseBody(c, UserBody);
    if (await userGetByEmail(pool, body.email)) throw new ConflictError(`a user with email ${body.email} exists`);
    const user = await userCreate(pool, {
      email: body.email,
      name: body.name ?? null,
      passwordHash: body.password ? await passwordHash(body.password) : null,
      isSuperadmin: body.superadmin ?? false,
    }).catch((err: unknown) => {
      if ((err as { code?: string }).code === '23505') throw new ConflictError(`a user with email ${body.email} exists`);
      throw err;
    });
    c.set('audit', { projectId: null, resourceId: user.id, details: { email: user.email, superadmin: user.is_superadmin } });
    return c.json({ user: userView(user) }, 201);
  });

  r.patch('/users/:id', { tag, access: 'superadmin', does: 'change users', audit: 'user.update', summary: 'Rename, set a password, grant or take superadmin, disable or enable', body: UserPatch }, async (c) => {
    const id = c.req.param('id');
    const body = await parseBody(c, UserPatch);
    const identity = c.get('identity');
    if (identity.userId === id && (body.superadmin === false || body.disabled === true)) {
      throw new HostrunError('conflict', 'you cannot take superadmin from, or disable, your own account');
    }
    const user = await userUpdate(pool, id, {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.password !== undefined ? { passwordHash: await passwordHash(body.password) } : {}),
      ...(body.superadmin !== undefined ? { isSuperadmin: body.superadmin } : {}),
      ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
    });
    if (!user) throw new NotFoundError(`user ${id}`);
    c.set('audit', { projectId: null, details: { fields: Object.keys(body) } });
    return c.json({ user: userView(user) });
  });

  return r;
}
