import { z } from 'zod';
import { HostrunError, NotFoundError } from '../core/errors.ts';
import { secretDelete, secretSet, secretsList } from '../db/secrets.ts';
import { sealSecret } from '../secrets/crypto.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { parseBody } from './validation.ts';

// /api/v1/secrets: write-only. Values go in (PUT) and never come back out: listing gives names
// and times. Admins only.

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
/** Private keys and certificates fit easily; a secret is not a file store. */
const MAX_SECRET_BYTES = 64 * 1024;

const SecretBody = z.strictObject({
  value: z.string().min(1, 'value is empty').max(MAX_SECRET_BYTES, `value is larger than ${MAX_SECRET_BYTES / 1024} KiB`),
});

function secretName(raw: string | undefined = ''): string {
  if (!NAME.test(raw)) throw new HostrunError('invalid_request', `invalid secret name "${raw}": letters, digits, _ and -, starting with a letter or _`);
  return raw;
}

export function secretsRoutes(deps: AppDeps): Routes {
  const { pool } = deps;
  return new Routes()
    .get('/secrets', { access: 'admin', tag: 'secrets', summary: 'List secret names (never values)', does: 'manage secrets' }, async (c) =>
      c.json({ secrets: await secretsList(pool, c.get('principal').projectId) }),
    )
    .put(
      '/secrets/:name',
      { access: 'admin', tag: 'secrets', summary: 'Set or replace a secret (write-only)', does: 'manage secrets', audit: 'secret.put', body: SecretBody },
      async (c) => {
        const name = secretName(c.req.param('name'));
        const { value } = await parseBody(c, SecretBody);
        if (!deps.secretKey) throw new HostrunError('unsupported', 'this server has no secret key (HOSTRUN_SECRET_KEY), so it cannot store secrets');
        const { projectId } = c.get('principal');
        const { created } = await secretSet(pool, projectId, name, sealSecret(deps.secretKey, projectId, name, Buffer.from(value, 'utf8')));
        return c.json({ name, created }, created ? 201 : 200);
      },
    )
    .delete('/secrets/:name', { access: 'admin', tag: 'secrets', summary: 'Delete a secret', does: 'manage secrets', audit: 'secret.delete' }, async (c) => {
      const name = secretName(c.req.param('name'));
      if (!(await secretDelete(pool, c.get('principal').projectId, name))) throw new NotFoundError(`secret "${name}"`);
      return c.body(null, 204);
    });
}
