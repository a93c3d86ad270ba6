import type { Queryable } from './pool.ts';

// The audit log: who changed what, when, and from where. Written by the API for every
// change it makes (src/server/api.ts records each successful non-GET operation), read by admins.

export interface AuditEntry {
  projectId: string | null;
  actorUserId: string | null;
  actorTokenId: string | null;
  /** A readable name for the actor that survives the user or token being deleted. */
  actor: string;
  action: string;
  resourceType: string;
  resourceId: string | null;
  ip: string | null;
  details?: Record<string, unknown> | null;
}

export interface AuditRow {
  id: number;
  project_id: string | null;
  actor_user_id: string | null;
  actor_token_id: string | null;
  actor: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  at: Date;
  ip: string | null;
  details: Record<string, unknown> | null;
}

// name: auditInsert
// $1 project id, $2 actor user id, $3 actor token id, $4 actor label, $5 action,
// $6 resource type, $7 resource id, $8 ip, $9 details (jsonb).
// The user and token ids are kept only while they exist (ON DELETE SET NULL); a session's
// user may be deleted in the same moment, so the ids are checked rather than trusted.
const AUDIT_INSERT_SQL = `
INSERT INTO hostrun.audit_log (project_id, actor_user_id, actor_token_id, actor, action, resource_type, resource_id, ip, details)
SELECT (SELECT id FROM hostrun.projects WHERE id = $1::uuid),
       (SELECT id FROM hostrun.users WHERE id = $2::uuid),
       (SELECT id FROM hostrun.api_tokens WHERE id = $3::uuid),
       $4, $5, $6, $7, $8, $9`;

export async function auditRecord(db: Queryable, entry: AuditEntry): Promise<void> {
  await db.query(AUDIT_INSERT_SQL, [
    entry.projectId,
    entry.actorUserId,
    entry.actorTokenId,
    entry.actor,
    entry.action,
    entry.resourceType,
    entry.resourceId,
    entry.ip,
    entry.details ? JSON.stringify(entry.details) : null,
  ]);
}

const AUDIT_COLUMNS = `id, project_id, actor_user_id, actor_token_id, actor, action, resource_type, resource_id, at, ip, details`;

// name: auditList
// $1 project id, or null for installation-wide entries; $2 ids below this (cursor) or null;
// $3 limit; $4 action prefix or null (`job.` for every job change).
const AUDIT_LIST_SQL = `
SELECT ${AUDIT_COLUMNS}
  FROM hostrun.audit_log
 WHERE project_id IS NOT DISTINCT FROM $1::uuid
   AND ($2::bigint IS NULL OR id < $2)
   AND ($4::text IS NULL OR starts_with(action, $4))
 ORDER BY id DESC
 LIMIT $3`;

export async function auditList(
  db: Queryable,
  filter: { projectId: string | null; beforeId?: number; limit: number; actionPrefix?: string },
): Promise<{ entries: AuditRow[]; nextBeforeId: number | null }> {
  const { rows } = await db.query<AuditRow>(AUDIT_LIST_SQL, [filter.projectId, filter.beforeId ?? null, filter.limit + 1, filter.actionPrefix ?? null]);
  const more = rows.length > filter.limit;
  const entries = more ? rows.slice(0, filter.limit) : rows;
  return { entries, nextBeforeId: more ? entries[entries.length - 1]!.id : null };
}
