import type { MemberRole } from './tokens.ts';
import type { Queryable } from './pool.ts';

// Projects: the unit of tenancy. Every job, schedule, run, host, secret and project token
// belongs to exactly one; a user sees a project only through membership (members.ts).

/** The project every installation starts with (migrations/0001_init.sql inserts it). */
export const DEFAULT_PROJECT_SLUG = 'default';

export interface ProjectRow {
  id: string;
  slug: string;
  name: string;
  created_at: Date;
}

/** A project as one caller sees it: with that caller's role in it. */
export interface ProjectAccessRow extends ProjectRow {
  role: MemberRole;
}

const PROJECT_COLUMNS = `p.id, p.slug, p.name, p.created_at`;

// name: projectIdBySlug
// $1 slug. Returns the project's id, or null when there is no such project.
const PROJECT_ID_BY_SLUG_SQL = `
SELECT id FROM hostrun.projects WHERE slug = $1`;

export async function projectIdBySlug(db: Queryable, slug: string): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(PROJECT_ID_BY_SLUG_SQL, [slug]);
  return rows[0]?.id ?? null;
}

// name: projectGetBySlug
// $1 slug.
const PROJECT_GET_BY_SLUG_SQL = `SELECT ${PROJECT_COLUMNS} FROM hostrun.projects p WHERE p.slug = $1`;

export async function projectGetBySlug(db: Queryable, slug: string): Promise<ProjectRow | null> {
  const { rows } = await db.query<ProjectRow>(PROJECT_GET_BY_SLUG_SQL, [slug]);
  return rows[0] ?? null;
}

// name: projectGet
// $1 project id.
const PROJECT_GET_SQL = `SELECT ${PROJECT_COLUMNS} FROM hostrun.projects p WHERE p.id = $1`;

export async function projectGet(db: Queryable, id: string): Promise<ProjectRow | null> {
  const { rows } = await db.query<ProjectRow>(PROJECT_GET_SQL, [id]);
  return rows[0] ?? null;
}

// name: projectAccessBySlug
// $1 slug, $2 user id. The project with the user's role in it; no row when either the project
// does not exist or the user is not a member (callers answer both the same way: not found).
const PROJECT_ACCESS_BY_SLUG_SQL = `
SELECT ${PROJECT_COLUMNS}, m.role
  FROM hostrun.projects p JOIN hostrun.project_members m ON m.project_id = p.id AND m.user_id = $2
 WHERE p.slug = $1`;

export async function projectAccessBySlug(db: Queryable, slug: string, userId: string): Promise<ProjectAccessRow | null> {
  const { rows } = await db.query<ProjectAccessRow>(PROJECT_ACCESS_BY_SLUG_SQL, [slug, userId]);
  return rows[0] ?? null;
}

// name: projectsList
// No parameters. Every project (for superadmins), by slug.
const PROJECTS_LIST_SQL = `SELECT ${PROJECT_COLUMNS}, 'owner'::hostrun.member_role AS role FROM hostrun.projects p ORDER BY p.slug`;

export async function projectsList(db: Queryable): Promise<ProjectAccessRow[]> {
  const { rows } = await db.query<ProjectAccessRow>(PROJECTS_LIST_SQL);
  return rows;
}

// name: projectsListForUser
// $1 user id. The projects the user is a member of, with the role.
const PROJECTS_LIST_FOR_USER_SQL = `
SELECT ${PROJECT_COLUMNS}, m.role
  FROM hostrun.projects p JOIN hostrun.project_members m ON m.project_id = p.id
 WHERE m.user_id = $1
 ORDER BY p.slug`;

export async function projectsListForUser(db: Queryable, userId: string): Promise<ProjectAccessRow[]> {
  const { rows } = await db.query<ProjectAccessRow>(PROJECTS_LIST_FOR_USER_SQL, [userId]);
  return rows;
}

// name: projectInsert
// $1 slug, $2 name. ON CONFLICT: the slug is taken; the caller reports a conflict.
const PROJECT_INSERT_SQL = `
INSERT INTO hostrun.projects AS p (slug, name) VALUES ($1, $2)
ON CONFLICT ON CONSTRAINT projects_slug_key DO NOTHING
RETURNING ${PROJECT_COLUMNS}`;

export async function projectCreate(db: Queryable, req: { slug: string; name: string }): Promise<ProjectRow | null> {
  const { rows } = await db.query<ProjectRow>(PROJECT_INSERT_SQL, [req.slug, req.name]);
  return rows[0] ?? null;
}

// name: projectUpdate
// $1 project id, $2 name.
const PROJECT_UPDATE_SQL = `
UPDATE hostrun.projects p SET name = $2 WHERE p.id = $1 RETURNING ${PROJECT_COLUMNS}`;

export async function projectUpdate(db: Queryable, id: string, req: { name: string }): Promise<ProjectRow | null> {
  const { rows } = await db.query<ProjectRow>(PROJECT_UPDATE_SQL, [id, req.name]);
  return rows[0] ?? null;
}

// name: projectDelete
// $1 project id. Everything of the project goes with it (ON DELETE CASCADE), runs included.
const PROJECT_DELETE_SQL = `DELETE FROM hostrun.projects WHERE id = $1`;

export async function projectDelete(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(PROJECT_DELETE_SQL, [id]);
  return (rowCount ?? 0) > 0;
}
