import { z } from 'zod';
import { HostrunError, NotFoundError } from '../core/errors.ts';
import { artifactGet, artifactPut, artifactsList } from '../db/artifacts.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { runOr404 } from './runs-routes.ts';
import { parseQuery } from './validation.ts';

// /api/v1/runs/:id/artifacts: files a run leaves behind. Workers store what a step writes to
// $HOSTRUN_ARTIFACTS directly; agents and people upload here. Each has a sha256 (also sent as
// a header on download) and expires after HOSTRUN_ARTIFACT_DAYS unless told otherwise.

/** Relative paths of plain names: no empty, `.` or `..` segments, no leading slash. */
const KEY = /^(?!.*(^|\/)\.{1,2}(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

const UploadQuery = z.strictObject({ expires_in_days: z.coerce.number().int().min(1).max(3650).optional() });

function artifactKey(raw: string): string {
  if (raw.length > 512 || !KEY.test(raw)) throw new NotFoundError(`artifact "${raw}"`);
  return raw;
}

export function artifactsRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool } = deps;
  const tag = 'artifacts';

  r.get('/runs/:id/artifacts', { tag, access: 'viewer', summary: "A run's artifacts: key, size, sha256, expiry" }, async (c) => {
    const run = await runOr404(pool, c.get('principal').projectId, c.req.param('id'));
    return c.json({ run_id: run.id, artifacts: await artifactsList(pool, run.id) });
  });

  r.put('/runs/:id/artifacts/:key{.+}', { tag, access: 'developer', does: 'upload artifacts', audit: 'artifact.upload', summary: 'Upload (or replace) an artifact of a run', rawBody: 'application/octet-stream', query: UploadQuery }, async (c) => {
    const run = await runOr404(pool, c.get('principal').projectId, c.req.param('id'));
    const key = c.req.param('key');
    if (key.length > 512 || !KEY.test(key)) {
      throw new HostrunError('invalid_request', 'an artifact key is a relative path of letters, digits, ".", "_", "-" (no "." or ".." segments)');
    }
    const q = parseQuery(c, UploadQuery);
    const content = Buffer.from(await c.req.arrayBuffer());
    const days = q.expires_in_days ?? deps.artifacts.retentionDays;
    const artifact = await artifactPut(pool, { runId: run.id, key, content, expiresAt: new Date(Date.now() + days * 86_400_000) });
    c.set('audit', { resourceType: 'artifact', resourceId: `${run.id}/${key}`, details: { size: artifact.size, sha256: artifact.sha256 } });
    return c.json(artifact, 201);
  });

  r.get('/runs/:id/artifacts/:key{.+}', { tag, access: 'viewer', summary: 'Download an artifact (its sha256 in X-Checksum-Sha256)', produces: 'application/octet-stream' }, async (c) => {
    const run = await runOr404(pool, c.get('principal').projectId, c.req.param('id'));
    const key = artifactKey(c.req.param('key'));
    const artifact = await artifactGet(pool, run.id, key);
    if (!artifact) throw new NotFoundError(`artifact "${key}" of run ${run.id}`);
    const name = key.split('/').at(-1)!;
    return new Response(new Uint8Array(artifact.content), {
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(artifact.size),
        'content-disposition': `attachment; filename="${name}"`,
        'x-checksum-sha256': artifact.sha256,
        digest: `sha-256=${Buffer.from(artifact.sha256, 'hex').toString('base64')}`,
      },
    });
  });

  return r;
}
