import type { Queryable } from './pool.ts';
import type { Sealed } from '../secrets/crypto.ts';

// Secrets at rest: only sealed bytes are stored (src/secrets/crypto.ts). Nothing here returns
// a value to a caller that answers users: listing gives names and times only.

export interface SecretMeta {
  name: string;
  created_at: Date;
  updated_at: Date;
}

// name: secretSet — $1 project, $2 name, $3 ciphertext, $4 nonce, $5 tag, $6 key id.
// Returns whether the secret is new.
const SECRET_SET_SQL = `
INSERT INTO hostrun.secrets (project_id, name, ciphertext, nonce, auth_tag, key_id)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT ON CONSTRAINT secrets_project_name_key DO UPDATE SET
  ciphertext = EXCLUDED.ciphertext, nonce = EXCLUDED.nonce, auth_tag = EXCLUDED.auth_tag,
  key_id = EXCLUDED.key_id, updated_at = now()
RETURNING (xmax = 0) AS created`;

export async function secretSet(db: Queryable, projectId: string, name: string, sealed: Sealed): Promise<{ created: boolean }> {
  const { rows } = await db.query<{ created: boolean }>(SECRET_SET_SQL, [projectId, name, sealed.ciphertext, sealed.nonce, sealed.authTag, sealed.keyId]);
  return { created: rows[0]!.created };
}

// name: secretsList — $1 project
export async function secretsList(db: Queryable, projectId: string): Promise<SecretMeta[]> {
  const { rows } = await db.query<SecretMeta>(
    `SELECT name, created_at, updated_at FROM hostrun.secrets WHERE project_id = $1 ORDER BY name`,
    [projectId],
  );
  return rows;
}

// name: secretDelete — $1 project, $2 name
export async function secretDelete(db: Queryable, projectId: string, name: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM hostrun.secrets WHERE project_id = $1 AND name = $2`, [projectId, name]);
  return (rowCount ?? 0) > 0;
}

// name: secretsSealedGet — $1 project, $2 names. For the worker, which opens them for one run.
export async function secretsSealedGet(db: Queryable, projectId: string, names: string[]): Promise<Map<string, Sealed>> {
  if (names.length === 0) return new Map();
  const { rows } = await db.query<{ name: string; ciphertext: Buffer; nonce: Buffer; auth_tag: Buffer; key_id: string }>(
    `SELECT name, ciphertext, nonce, auth_tag, key_id FROM hostrun.secrets WHERE project_id = $1 AND name = ANY ($2)`,
    [projectId, names],
  );
  return new Map(rows.map((r) => [r.name, { ciphertext: r.ciphertext, nonce: r.nonce, authTag: r.auth_tag, keyId: r.key_id }]));
}
