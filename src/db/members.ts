import type { Queryable } from './pool.ts';
import type { MemberRole } from './tokens.ts';

// Project members: a user's role in a project (owner > admin > developer > viewer).

export interface MemberRow {
  user_id: string;
  email: string;
  name: string | null;
  role: MemberRole;
  created_at: Date;
}

// name: membersList
// $1 project id. Members by email.
const MEMBERS_LIST_SQL = `
SELECT m.user_id, u.email, u.name, m.role, m.created_at
  FROM hostrun.project_members m JOIN hostrun.users u ON u.id = m.user_id
 WHERE m.project_id = $1
 ORDER BY lower(u.email)`;

export async function membersList(db: Queryable, projectId: string): Promise<MemberRow[]> {
  const { rows } = await db.query<MemberRow>(MEMBERS_LIST_SQL, [projectId]);
  return rows;
}

// name: memberGet
// $1 project id, $2 user id.
const MEMBER_GET_SQL = `
SELECT m.user_id, u.email, u.name, m.role, m.created_at
  FROM hostrun.project_members m JOIN hostrun.users u ON u.id = m.user_id
 WHERE m.project_id = $1 AND m.user_id = $2`;

export async function memberGet(db: Queryable, projectId: string, userId: string): Promise<MemberRow | null> {
  const { rows } = await db.query<MemberRow>(MEMBER_GET_SQL, [projectId, userId]);
  return rows[0] ?? null;
}

// name: memberUpsert
// $1 project id, $2 user id, $3 role. Adding an existing member changes the role.
const MEMBER_UPSERT_SQL = `
INSERT INTO hostrun.project_members (project_id, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role`;

export async function memberPut(db: Queryable, projectId: string, userId: string, role: MemberRole): Promise<MemberRow> {
  await db.query(MEMBER_UPSERT_SQL, [projectId, userId, role]);
  return (await memberGet(db, projectId, userId))!;
}

// name: memberDelete
// $1 project id, $2 user id.
const MEMBER_DELETE_SQL = `DELETE FROM hostrun.project_members WHERE project_id = $1 AND user_id = $2`;

export async function memberDelete(db: Queryable, projectId: string, userId: string): Promise<boolean> {
  const { rowCount } = await db.query(MEMBER_DELETE_SQL, [projectId, userId]);
  return (rowCount ?? 0) > 0;
}

// name: membersCountOwners
// $1 project id. A project keeps at least one owner; removing or demoting the last is refused.
const MEMBERS_COUNT_OWNERS_SQL = `
SELECT count(*)::int AS n FROM hostrun.project_members WHERE project_id = $1 AND role = 'owner'`;

export async function membersCountOwners(db: Queryable, projectId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(MEMBERS_COUNT_OWNERS_SQL, [projectId]);
  return rows[0]?.n ?? 0;
}

// name: membersLockOwners
// $1 project id. Locks the project's owner rows for the transaction, so two changes cannot
// each leave the other as "the last owner".
const MEMBERS_LOCK_OWNERS_SQL = `
SELECT 1 FROM hostrun.project_members WHERE project_id = $1 AND role = 'owner' FOR UPDATE`;

export async function membersLockOwners(db: Queryable, projectId: string): Promise<void> {
  await db.query(MEMBERS_LOCK_OWNERS_SQL, [projectId]);
}
