import { z } from 'zod';
import { ConflictError, HostrunError, NotFoundError } from '../core/errors.ts';
import { memberPut } from '../db/members.ts';
import { withTransaction } from '../db/pool.ts';
import { DEFAULT_PROJECT_SLUG, projectCreate, projectDelete, projectGet, projectsList, projectsListForUser, projectUpdate } from '../db/projects.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { parseBody } from './validation.ts';

// /api/v1/projects: the projects a caller can see, creating one (the creator becomes its
// owner), and one project's settings and deletion, which are the owner's.

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, up to 63');

const ProjectBody = z.strictObject({ slug, name: z.string().min(1).max(200).optional() });
const ProjectPatch = z.strictObject({ name: z.string().min(1).max(200) });
/** Deleting takes the whole project with it; the caller repeats the slug to confirm. */
const ProjectDeleteBody = z.strictObject({ confirm: z.string().min(1) });

export function projectsRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool } = deps;
  const tag = 'projects';

  r.get('/projects', { tag, access: 'signed-in', summary: 'The projects the caller can see, with its role in each' }, async (c) => {
    const identity = c.get('identity');
    if (identity.scope) {
      const p = await projectGet(pool, identity.scope.projectId);
      return c.json({ projects: p ? [{ ...p, role: identity.scope.role }] : [] });
    }
    if (identity.isSuperadmin) return c.json({ projects: await projectsList(pool) });
    return c.json({ projects: identity.userId ? await projectsListForUser(pool, identity.userId) : [] });
  });

  // Any person may create a project (and owns it); so may the installation's admin token.
  r.post('/projects', { tag, access: 'unscoped', does: 'create projects', audit: 'project.create', summary: 'Create a project; the caller becomes its owner', body: ProjectBody }, async (c) => {
    const identity = c.get('identity');
    const body = await parseBody(c, ProjectBody);
    const project = await withTransaction(pool, async (tx) => {
      const created = await projectCreate(tx, { slug: body.slug, name: body.name ?? body.slug });
      if (!created) throw new ConflictError(`project "${body.slug}" exists`);
      if (identity.userId) await memberPut(tx, created.id, identity.userId, 'owner');
      return created;
    });
    c.set('audit', { projectId: project.id, resourceId: project.slug });
    return c.json({ project: { ...project, role: 'owner' } }, 201);
  });

  r.get('/projects/:slug', { tag, access: 'viewer', projectParam: 'slug', summary: 'One project' }, async (c) => {
    const principal = c.get('principal');
    const project = await projectGet(pool, principal.projectId);
    if (!project) throw new NotFoundError(`project "${principal.projectSlug}"`);
    return c.json({ project: { ...project, role: principal.role } });
  });

  r.patch('/projects/:slug', { tag, access: 'owner', projectParam: 'slug', does: 'change project settings', audit: 'project.update', summary: "Change a project's settings", body: ProjectPatch }, async (c) => {
    const principal = c.get('principal');
    const body = await parseBody(c, ProjectPatch);
    const project = await projectUpdate(pool, principal.projectId, body);
    if (!project) throw new NotFoundError(`project "${principal.projectSlug}"`);
    return c.json({ project: { ...project, role: principal.role } });
  });

  r.delete('/projects/:slug', { tag, access: 'owner', projectParam: 'slug', does: 'delete projects', audit: 'project.delete', summary: 'Delete a project and everything in it (body: { "confirm": "<slug>" })', body: ProjectDeleteBody }, async (c) => {
    const principal = c.get('principal');
    const body = await parseBody(c, ProjectDeleteBody);
    if (body.confirm !== principal.projectSlug) {
      throw new HostrunError('invalid_request', `to delete project ${principal.projectSlug}, send { "confirm": "${principal.projectSlug}" }`);
    }
    if (principal.projectSlug === DEFAULT_PROJECT_SLUG) throw new ConflictError('the default project cannot be deleted');
    await projectDelete(pool, principal.projectId);
    // The project row is gone, so the entry is installation-wide.
    c.set('audit', { projectId: null, resourceId: principal.projectSlug });
    return c.json({ deleted: true, slug: principal.projectSlug });
  });

  return r;
}
