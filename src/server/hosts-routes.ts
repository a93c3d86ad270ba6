import { z } from 'zod';
import { ConflictError, NotFoundError } from '../core/errors.ts';
import type { JobSpec } from '../core/types.ts';
import { hostDelete, hostGetByName, hostPinKey, hostsLastTests, hostsList, hostUpsert, type HostLastTest, type HostRow } from '../db/hosts.ts';
import { runsEnqueue } from '../queue/enqueue.ts';
import type { AppDeps } from './deps.ts';
import { hostKeyScan, type ScannedHostKey } from './host-key-scan.ts';
import { Routes } from './operations.ts';
import { parseBody } from './validation.ts';

// /api/v1/hosts: machines reached over SSH. Reading is open to every member; adding, changing,
// removing and testing need admin. Credentials are names of secrets, never values.

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const FINGERPRINT = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'an OpenSSH SHA256 fingerprint (SHA256:...)');
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
  fingerprint: FINGERPRINT.nullable().optional(),
  trust_on_first_use: z.boolean().optional(),
});

const PinBody = z.strictObject({
  /** The fingerprint the person confirmed, as /scan showed it. */
  fingerprint: FINGERPRINT,
});

/** The newest `host test` run, when the list asks for it. */
function lastTestView(t: HostLastTest | undefined) {
  return t ? { run_id: t.run_id, status: t.status, at: t.finished_at ?? t.created_at, error: t.error } : null;
}

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

function scanView(host: HostRow, key: ScannedHostKey) {
  return {
    fingerprint: key.fingerprint,
    algorithm: key.algorithm,
    pinned: host.host_key_fingerprint,
    /** null when nothing is pinned yet. */
    matches_pinned: host.host_key_fingerprint === null ? null : host.host_key_fingerprint === key.fingerprint,
  };
}

function keyChanged(host: HostRow, pinned: string, presented: string): ConflictError {
  return new ConflictError(
    `HOST KEY CHANGED for ${host.name}: pinned ${pinned}, now ${presented}; refusing to replace it ` +
      `(if the host was really reinstalled, update it with \`hostrun host add ${host.name} ... --fingerprint ${presented}\`)`,
  );
}

export function hostsRoutes(deps: AppDeps): Routes {
  const { pool } = deps;
  const hostOr404 = async (projectId: string, raw: string | undefined): Promise<HostRow> => {
    const name = hostName(raw);
    const host = await hostGetByName(pool, projectId, name);
    if (!host) throw new NotFoundError(`host "${name}"`);
    return host;
  };
  return new Routes()
    .get('/hosts', { access: 'viewer', tag: 'hosts', summary: 'List hosts, each with its last test (of 30 days)', does: 'list hosts' }, async (c) => {
      const { projectId } = c.get('principal');
      const [hosts, tests] = await Promise.all([hostsList(pool, projectId), hostsLastTests(pool, projectId)]);
      return c.json({ hosts: hosts.map((h) => ({ ...hostView(h), last_test: lastTestView(tests.get(h.name)) })) });
    })
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
    // Trust on first use, with a person in the loop: /scan shows the key the host presents now
    // (nothing is pinned), the person compares it, /pin pins it only if the host still presents
    // exactly that key. A pinned key is never replaced here: a changed key is refused, naming both.
    .post(
      '/hosts/:name/scan',
      { access: 'admin', tag: 'hosts', summary: 'Read the host key the host presents now, without logging in or pinning it', does: 'manage hosts' },
      async (c) => {
        const host = await hostOr404(c.get('principal').projectId, c.req.param('name'));
        const key = await hostKeyScan({ address: host.address, port: host.port });
        return c.json(scanView(host, key));
      },
    )
    .post(
      '/hosts/:name/pin',
      { access: 'admin', tag: 'hosts', summary: 'Pin the host key a person confirmed, if the host still presents it', does: 'manage hosts', audit: 'host.pin', body: PinBody },
      async (c) => {
        const host = await hostOr404(c.get('principal').projectId, c.req.param('name'));
        const { fingerprint } = await parseBody(c, PinBody);
        const key = await hostKeyScan({ address: host.address, port: host.port });
        if (host.host_key_fingerprint && host.host_key_fingerprint !== key.fingerprint) throw keyChanged(host, host.host_key_fingerprint, key.fingerprint);
        if (key.fingerprint !== fingerprint) {
          throw new ConflictError(`host ${host.name} now presents ${key.fingerprint}, not the ${fingerprint} you confirmed; nothing was pinned: scan it again and compare`);
        }
        // Pins only if nothing is pinned yet: a worker that pinned in the meantime wins, and a
        // different key pinned that way is refused like any changed key.
        const pinned = await hostPinKey(pool, host.id, fingerprint);
        if (pinned !== fingerprint) throw keyChanged(host, pinned ?? '(none)', fingerprint);
        c.set('audit', { resourceId: host.name, details: { fingerprint } });
        const updated = await hostOr404(host.project_id, host.name);
        return c.json({ host: hostView(updated) });
      },
    )
    // A test is a run like any other (workers log in to hosts; the server only reads keys, /scan):
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
