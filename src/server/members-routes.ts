import { z } from 'zod';
import { ConflictError, HostrunError, NotFoundError } from '../core/errors.ts';
import { memberDelete, memberGet, memberPut, membersCountOwners, membersList, membersLockOwners } from '../db/members.ts';
import { withTransaction, type PoolClient } from '../db/pool.ts';
import { userFind } from '../db/users.ts';
import { roleAtLeast, type MemberRole, type Principal } from './auth.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { parseBody } from './validation.ts';

// /api/v1/members: who is in the request's project, with which role. Admins manage members,
// but nobody grants, changes or removes a role above their own (only owners touch owners),
// and a project always keeps an owner.

const ROLES = ['viewer', 'developer', 'admin', 'owner'] as const;

const MemberBody = z.strictObject({ user: z.string().min(1).describe('user id or email'), role: z.enum(ROLES) });
const MemberPatch = z.strictObject({ role: z.enum(ROLES) });

function assertMayGrant(principal: Principal, role: MemberRole, what: string): void {
  if (!principal.isSuperadmin && !roleAtLeast(principal.role, role)) {
    throw new HostrunError('forbidden', `${principal.role} cannot ${what} ${role} in project ${principal.projectSlug}`);
  }
}

export function membersRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool } = deps;
  const tag = 'members';

  r.get('/members', { tag, access: 'viewer', summary: "The project's members and roles" }, async (c) => {
    return c.json({ members: await membersList(pool, c.get('principal').projectId) });
  });

  r.post('/members', { tag, access: 'admin', does: 'manage members', audit: 'member.add', summary: 'Add a user to the project (or change the role of a member)', body: MemberBody }, async (c) => {
    const principal = c.get('principal');
    const body = await parseBody(c, MemberBody);
    const user = await userFind(pool, body.user);
    if (!user) throw new NotFoundError(`user ${body.user}`);
    const member = await withTransaction(pool, (tx) => changeRole(tx, principal, user.id, body.role));
    c.set('audit', { resourceId: user.id, details: { email: user.email, role: body.role } });
    return c.json({ member }, 201);
  });

  r.patch('/members/:user', { tag, access: 'admin', does: 'manage members', audit: 'member.update', summary: "Change a member's role", body: MemberPatch }, async (c) => {
    const principal = c.get('principal');
    const user = await userFind(pool, c.req.param('user'));
    if (!user || !(await memberGet(pool, principal.projectId, user.id))) throw new NotFoundError(`member ${c.req.param('user')}`);
    const body = await parseBody(c, MemberPatch);
    const member = await withTransaction(pool, (tx) => changeRole(tx, principal, user.id, body.role));
    c.set('audit', { resourceId: user.id, details: { email: user.email, role: body.role } });
    return c.json({ member });
  });

  r.delete('/members/:user', { tag, access: 'admin', does: 'manage members', audit: 'member.remove', summary: 'Remove a member from the project' }, async (c) => {
    const principal = c.get('principal');
    const user = await userFind(pool, c.req.param('user'));
    const current = user ? await memberGet(pool, principal.projectId, user.id) : null;
    if (!user || !current) throw new NotFoundError(`member ${c.req.param('user')}`);
    assertMayGrant(principal, current.role, 'remove');
    await withTransaction(pool, async (tx) => {
      await membersLockOwners(tx, principal.projectId);
      if (current.role === 'owner' && (await membersCountOwners(tx, principal.projectId)) <= 1) {
        throw new ConflictError(`${user.email} is the last owner of project ${principal.projectSlug}: make someone else owner first`);
      }
      await memberDelete(tx, principal.projectId, user.id);
    });
    c.set('audit', { resourceId: user.id, details: { email: user.email } });
    return c.json({ removed: true, user_id: user.id, email: user.email });
  });

  return r;
}

async function changeRole(tx: PoolClient, principal: Principal, userId: string, role: MemberRole) {
  await membersLockOwners(tx, principal.projectId);
  const current = await memberGet(tx, principal.projectId, userId);
  assertMayGrant(principal, role, 'grant');
  if (current) assertMayGrant(principal, current.role, 'change the role of');
  if (current?.role === 'owner' && role !== 'owner' && (await membersCountOwners(tx, principal.projectId)) <= 1) {
    throw new ConflictError(`${current.email} is the last owner of project ${principal.projectSlug}: make someone else owner first`);
  }
  return memberPut(tx, principal.projectId, userId, role);
}
