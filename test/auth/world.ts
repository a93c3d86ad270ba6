import { createApp, type CreateAppOptions } from '../../src/server/app.ts';
import { parseJobSpec } from '../../src/core/spec.ts';
import { jobApply } from '../../src/db/jobs.ts';
import { memberPut } from '../../src/db/members.ts';
import { projectCreate } from '../../src/db/projects.ts';
import { tokenCreate } from '../../src/db/tokens.ts';
import { userCreate } from '../../src/db/users.ts';
import type { MemberRole } from '../../src/db/tokens.ts';
import type { Pool } from '../../src/db/pool.ts';
import { passwordHash } from '../../src/server/passwords.ts';

// A small installation for the auth tests: projects alpha and beta, a token per role in alpha,
// an owner token of beta, an expired and a revoked token, users with passwords, and a job with
// a webhook in alpha.

export const JOB_YAML = `name: hello
on: { webhook: true }
inputs:
  who: { default: world }
steps:
  - run: echo "hello \${{ inputs.who }}"
`;

export const PASSWORD = 'correct horse battery';

export interface World {
  app: ReturnType<typeof createApp>;
  alpha: string;
  beta: string;
  tokens: Record<MemberRole | 'superadmin' | 'beta' | 'expired' | 'revoked', string>;
  users: Record<'ada' | 'bob', { id: string; email: string }>;
  webhookId: string;
}

export async function buildWorld(pool: Pool, options: Omit<CreateAppOptions, 'pool'> = {}): Promise<World> {
  const app = createApp({ pool, ...options });
  const alpha = (await projectCreate(pool, { slug: 'alpha', name: 'Alpha' }))!.id;
  const beta = (await projectCreate(pool, { slug: 'beta', name: 'Beta' }))!.id;
  const token = async (name: string, req: Omit<Parameters<typeof tokenCreate>[1], 'name'>) => (await tokenCreate(pool, { ...req, name })).token;
  const tokens = {
    superadmin: await token('root', { isSuperadmin: true }),
    viewer: await token('v', { projectId: alpha, role: 'viewer' }),
    developer: await token('d', { projectId: alpha, role: 'developer' }),
    admin: await token('a', { projectId: alpha, role: 'admin' }),
    owner: await token('o', { projectId: alpha, role: 'owner' }),
    beta: await token('b', { projectId: beta, role: 'owner' }),
    expired: await token('x', { projectId: alpha, role: 'owner', expiresAt: new Date(Date.now() - 1000) }),
    revoked: await token('r', { projectId: alpha, role: 'owner' }),
  };
  await pool.query(`UPDATE hostrun.api_tokens SET revoked_at = now() WHERE name = 'r'`);
  const hash = await passwordHash(PASSWORD);
  const ada = await userCreate(pool, { email: 'ada@example.com', passwordHash: hash });
  const bob = await userCreate(pool, { email: 'bob@example.com', passwordHash: hash });
  await memberPut(pool, alpha, ada.id, 'developer');
  const { job } = await jobApply(pool, { projectId: alpha, spec: parseJobSpec(JOB_YAML), source: JOB_YAML });
  return {
    app,
    alpha,
    beta,
    tokens,
    users: { ada: { id: ada.id, email: ada.email }, bob: { id: bob.id, email: bob.email } },
    webhookId: job.webhook_id!,
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  // Bodies are checked field by field; a loose type keeps that readable.
  body: any;
}

/** One request in process; streams (SSE) are cut off after the headers. */
export async function call(
  app: World['app'],
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: BodyInit; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await app.request(path, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : options.raw !== undefined ? { body: options.raw } : {}),
  });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, headers: res.headers, body: null };
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (downloads)
  }
  return { status: res.status, headers: res.headers, body };
}
