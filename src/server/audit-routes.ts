import { z } from 'zod';
import { HostrunError } from '../core/errors.ts';
import { auditList } from '../db/audit.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { limitParam, parseQuery } from './validation.ts';

// /api/v1/audit: the project's audit log, newest first, for admins; installation-wide entries
// (users, projects created or deleted, sign-ins) for superadmins.

const AuditQuery = z.strictObject({
  limit: limitParam(500, 100),
  cursor: z.string().optional(),
  /** Only actions starting with this: `job.`, `member.`. */
  action: z.string().min(1).max(100).optional(),
});

function cursorEncode(id: number): string {
  return Buffer.from(`audit:${id}`).toString('base64url');
}

function cursorDecode(cursor: string): number {
  const match = /^audit:([1-9][0-9]{0,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new HostrunError('invalid_request', 'invalid cursor', { details: [{ path: 'cursor', message: 'not a cursor this server issued' }] });
  return Number(match[1]);
}

export function auditRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const tag = 'audit';

  const list = (projectId: string | null, q: z.output<typeof AuditQuery>) =>
    auditList(deps.pool, {
      projectId,
      limit: q.limit,
      ...(q.cursor ? { beforeId: cursorDecode(q.cursor) } : {}),
      ...(q.action ? { actionPrefix: q.action } : {}),
    });

  r.get('/audit', { tag, access: 'admin', does: 'read the audit log', summary: "The project's audit log, newest first", query: AuditQuery }, async (c) => {
    const page = await list(c.get('principal').projectId, parseQuery(c, AuditQuery));
    return c.json({ entries: page.entries, next_cursor: page.nextBeforeId === null ? null : cursorEncode(page.nextBeforeId) });
  });

  r.get('/audit/installation', { tag, access: 'superadmin', does: 'read the installation audit log', summary: 'Installation-wide entries: users, projects, sign-ins', query: AuditQuery }, async (c) => {
    const page = await list(null, parseQuery(c, AuditQuery));
    return c.json({ entries: page.entries, next_cursor: page.nextBeforeId === null ? null : cursorEncode(page.nextBeforeId) });
  });

  return r;
}
