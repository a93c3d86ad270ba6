import { createHash } from 'node:crypto';
import type { Queryable } from './pool.ts';

// Run artifacts: files a run leaves behind (uploaded from a step's $HOSTRUN_ARTIFACTS directory
// by the worker, or through the API). Stored in Postgres with their sha256; they expire.

export interface ArtifactItem {
  id: string;
  run_id: number;
  key: string;
  size: number;
  sha256: string;
  created_at: Date;
  expires_at: Date | null;
}

const ARTIFACT_COLUMNS = `id, run_id, key, size, sha256, created_at, expires_at`;

// name: artifactUpsert
// $1 run id, $2 key, $3 content, $4 sha256 (hex), $5 expires at or null. Uploading a key again
// replaces it: a retried attempt overwrites what the failed one left.
const ARTIFACT_UPSERT_SQL = `
INSERT INTO hostrun.run_artifacts (run_id, key, size, sha256, content, expires_at)
VALUES ($1, $2, octet_length($3::bytea), $4, $3::bytea, $5)
ON CONFLICT ON CONSTRAINT run_artifacts_run_key DO UPDATE
   SET size = EXCLUDED.size, sha256 = EXCLUDED.sha256, content = EXCLUDED.content,
       expires_at = EXCLUDED.expires_at, created_at = now()
RETURNING ${ARTIFACT_COLUMNS}`;

export async function artifactPut(
  db: Queryable,
  req: { runId: number; key: string; content: Buffer; expiresAt: Date | null },
): Promise<ArtifactItem> {
  const sha256 = createHash('sha256').update(req.content).digest('hex');
  const { rows } = await db.query<ArtifactItem>(ARTIFACT_UPSERT_SQL, [req.runId, req.key, req.content, sha256, req.expiresAt]);
  return rows[0]!;
}

// name: artifactsList
// $1 run id. Live (unexpired) artifacts by key.
const ARTIFACTS_LIST_SQL = `
SELECT ${ARTIFACT_COLUMNS} FROM hostrun.run_artifacts
 WHERE run_id = $1 AND (expires_at IS NULL OR expires_at > now())
 ORDER BY key`;

export async function artifactsList(db: Queryable, runId: number): Promise<ArtifactItem[]> {
  const { rows } = await db.query<ArtifactItem>(ARTIFACTS_LIST_SQL, [runId]);
  return rows;
}

// name: artifactGet
// $1 run id, $2 key. With the content; expired ones are gone as far as readers are concerned.
const ARTIFACT_GET_SQL = `
SELECT ${ARTIFACT_COLUMNS}, content FROM hostrun.run_artifacts
 WHERE run_id = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > now())`;

export async function artifactGet(db: Queryable, runId: number, key: string): Promise<(ArtifactItem & { content: Buffer }) | null> {
  const { rows } = await db.query<ArtifactItem & { content: Buffer }>(ARTIFACT_GET_SQL, [runId, key]);
  return rows[0] ?? null;
}

// name: artifactsDeleteExpired
// $1 how many at most. Frees the space of expired artifacts; returns how many went.
const ARTIFACTS_DELETE_EXPIRED_SQL = `
DELETE FROM hostrun.run_artifacts WHERE id IN (
  SELECT id FROM hostrun.run_artifacts WHERE expires_at <= now() LIMIT $1)`;

export async function artifactsDeleteExpired(db: Queryable, limit = 1000): Promise<number> {
  const { rowCount } = await db.query(ARTIFACTS_DELETE_EXPIRED_SQL, [limit]);
  return rowCount ?? 0;
}
