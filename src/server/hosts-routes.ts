import { z } from 'zod';
import { NotFoundError } from '../core/errors.ts';
import type { JobSpec } from '../core/types.ts';
import { hostDelete, hostGetByName, hostsList, hostUpsert, type HostRow } from '../db/hosts.ts';
import { runsEnqueue } from '../queue/enqueue.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { parseBody } from './validation.ts';

// /api/v1/hosts: machines reached over SSH. Reading is open to every member; adding, changing,
// removing and testing need admin. Credentials are names of secrets, never values.

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SECRET = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/, 'a secret name');

const HostBody = z.strictObject({
  address: z.string().min(1).max(253).regex(/^[^\s-][^\s]*$/, 'a host name or IP address (no spaces, not starting with -)'),
  port: z.number().int().min(1).max(65535).optional(),
  username: z.string().min(1).max(64).regex(/^[^\s-][^\s@:]*$/, 'a user name (no spaces, @ or :, not starting with -)'),
  os: z.enum(['linux', 'windows']).optional(),
  shell: z.enum(['bash', 'sh', 'pwsh', 'powershell', 'cmd']).nullable().optional(),
  labels: z.array(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a label')).max(32).optional(),
  key_secret: SECRET.nullable().optional(),
  passphrase_secret: SECRET.nullable().optional(),
  password_secret: SECRET.nullable().optional(),
  fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'an OpenSSH SHA256 fingerprint (SHA256:...)').nullable().optional(),
  trust_on_first_use: z.boolean().optional(),
});

/** What the API shows of a host: everything but which secrets hold its credentials is plain data. */
function hostView(h: HostRow) {
  return {
    name: h.name,
    address: h.address,
    port: h.port,
    username: h.username,
    os: h.os,
    shell: h.shell,
    labels: h.labels,
    key_secret: h.key_secret,
    passphrase_secret: h.passphrase_secret,
    password_secret: h.password_secret,
    fingerprint: h.host_key_fingerprint,
    trust_on_first_use: h.trust_on_first_use,
    created_at: h.created_at,
    updated_at: h.updated_at,
  };
}

function hostName(raw: string | undefined = ''): string {
  if (!NAME.test(raw)) throw new NotFoundError(`host "${raw}"`);
  return raw;
}

/** The one-step job `hostrun host test` runs: connect, verify (or pin) the key, `whoami`. */
function hostTestSpec(name: string): JobSpec {
  return {
    name: `host-test`,
    runsOn: { kind: 'host', name },
    inputs: {},
    env: {},
    schedules: [],
    webhook: false,
    retries: { max: 0, backoff: 'exponential', delaySeconds: 10 },
    priority: 10,
    timeoutMinutes: 2,
    steps: [{ id: 'whoami', name: 'whoami', run: 'whoami', env: {}, continueOnError: false }],
  };
}

export function hostsRoutes(deps: AppDeps): Routes {
  const { pool } = deps;
  return new Routes()
    .get('/hosts', { access: 'viewer', tag: 'hosts', summary: 'List hosts', does: 'list hosts' }, async (c) =>
      c.json({ hosts: (await hostsList(pool, c.get('principal').projectId)).map(hostView) }),
    )
    .get('/hosts/:name', { access: 'viewer', tag: 'hosts', summary: 'Show a host', does: 'see hosts' }, async (c) => {
      const host = await hostGetByName(pool, c.get('principal').projectId, hostName(c.req.param('name')));
      if (!host) throw new NotFoundError(`host "${c.req.param("name") ?? ""}"`);
      return c.json({ host: hostView(host) });
    })
    .put(
      '/hosts/:name',
      { access: 'admin', tag: 'hosts', summary: 'Add or change a host', does: 'manage hosts', audit: 'host.put', body: HostBody },
      async (c) => {
        const name = hostName(c.req.param('name'));
        const body = await parseBody(c, HostBody);
        const { host, created } = await hostUpsert(pool, c.get('principal').projectId, {
          name,
          address: body.address,
          port: body.port,
          username: body.username,
          os: body.os,
          shell: body.shell,
          labels: body.labels,
          keySecret: body.key_secret,
          passphraseSecret: body.passphrase_secret,
          passwordSecret: body.password_secret,
          hostKeyFingerprint: body.fingerprint,
          trustOnFirstUse: body.trust_on_first_use,
        });
        return c.json({ host: hostView(host), created }, created ? 201 : 200);
      },
    )
    .delete('/hosts/:name', { access: 'admin', tag: 'hosts', summary: 'Remove a host', does: 'manage hosts', audit: 'host.delete' }, async (c) => {
      const name = hostName(c.req.param('name'));
      if (!(await hostDelete(pool, c.get('principal').projectId, name))) throw new NotFoundError(`host "${name}"`);
      return c.body(null, 204);
    })
    // A test is a run like any other (workers hold the SSH connections; the server never does):
    // it shows up in history, its log says what happened, and an unknown key gets pinned.
    .post(
      '/hosts/:name/test',
      { access: 'admin', tag: 'hosts', summary: 'Test a host: connect, pin its key if new, run whoami', does: 'test hosts', audit: 'host.test' },
      async (c) => {
        const name = hostName(c.req.param('name'));
        const { projectId } = c.get('principal');
        if (!(await hostGetByName(pool, projectId, name))) throw new NotFoundError(`host "${name}"`);
        const [runId] = await runsEnqueue(pool, [
          { projectId, job: { id: null, name: `host-test:${name}`, version: 0, spec: hostTestSpec(name) }, inputs: {}, trigger: 'host_test' },
        ]);
        return c.json({ run_id: runId }, 201);
      },
    );
}
