import type { Pool } from '../db/pool.ts';
import type { JobSpec, Shell } from '../core/types.ts';
import { HostrunError } from '../core/errors.ts';
import { hostGetByName } from '../db/hosts.ts';
import { secretsSealedGet } from '../db/secrets.ts';
import { openSecret, type SecretKey } from '../secrets/crypto.ts';
import { Masker } from '../secrets/mask.ts';
import { SshExecutor } from '../executors/ssh.ts';
import type { SshPool } from '../executors/ssh-pool.ts';
import type { Executor } from '../executors/types.ts';

// What a run needs before its first step: the executor for its target (with the host's
// credentials opened) and the secrets it references, plus the masker that hides all of them.

export interface RunTargetContext {
  pool: Pool;
  projectId: string;
  spec: JobSpec;
  trigger: string;
  /** runs.target: for a child of a labels run, the host it was fanned out to. */
  target: string;
  secretKey: SecretKey | undefined;
  sshPool: SshPool;
  local: Executor;
}

export interface PreparedRun {
  executor: Executor;
  secrets: Record<string, string>;
  masker: Masker;
}

const SECRET_REFERENCE = /\bsecrets\.([A-Za-z_][A-Za-z0-9_-]*)/g;

// Per spec object: the worker keeps one spec per job version for all its runs, and writing the
// spec out as JSON for every run cost more than the run's own no-op step.
const secretNamesBySpec = new WeakMap<JobSpec, readonly string[]>();

/** Secret names a spec's steps and env refer to (`${{ secrets.X }}`). */
export function secretNamesUsed(spec: JobSpec): readonly string[] {
  let names = secretNamesBySpec.get(spec);
  if (!names) {
    const text = JSON.stringify([spec.env, spec.steps]);
    names = [...new Set([...text.matchAll(SECRET_REFERENCE)].map((m) => m[1]!))];
    secretNamesBySpec.set(spec, names);
  }
  return names;
}

export async function prepareRun(ctx: RunTargetContext): Promise<PreparedRun> {
  const { spec } = ctx;
  const host =
    spec.runsOn.kind === 'host' ? await hostFor(ctx, spec.runsOn.name) : spec.runsOn.kind === 'labels' ? await hostFor(ctx, fannedOutHost(ctx, spec.runsOn.labels)) : null;
  const credentialNames = host ? [host.keySecret, host.passphraseSecret, host.passwordSecret].filter((n): n is string => !!n) : [];
  const names = [...new Set([...secretNamesUsed(spec), ...credentialNames])];
  const values = await openSecrets(ctx, names);

  const masker = new Masker(Object.values(values));
  if (!host) return { executor: ctx.local, secrets: values, masker };
  const executor = new SshExecutor({
    pool: ctx.sshPool,
    os: host.os,
    shell: host.shell,
    target: {
      hostId: host.id,
      name: host.name,
      address: host.address,
      port: host.port,
      username: host.username,
      privateKey: host.keySecret ? values[host.keySecret] : undefined,
      passphrase: host.passphraseSecret ? values[host.passphraseSecret] : undefined,
      password: host.passwordSecret ? values[host.passwordSecret] : undefined,
      pinnedFingerprint: host.fingerprint,
      // `hostrun host test` is how a user sees a new key and pins it.
      trustOnFirstUse: host.trustOnFirstUse || ctx.trigger === 'host_test',
    },
  });
  return { executor, secrets: values, masker };
}

/** The host of a fanned-out child; a labels run that is not a child matched no host. */
function fannedOutHost(ctx: RunTargetContext, labels: string[]): string {
  if (!ctx.target.startsWith('labels:')) return ctx.target;
  throw new HostrunError('not_found', `no host in this project has the label${labels.length > 1 ? 's' : ''} ${labels.join(', ')}: add one with \`hostrun host add ... --labels ${labels.join(',')}\``);
}

interface ResolvedHost {
  id: string | null;
  name: string;
  address: string;
  port: number;
  username: string;
  os: 'linux' | 'windows';
  shell: Shell | null;
  keySecret: string | null;
  passphraseSecret: string | null;
  passwordSecret: string | null;
  fingerprint: string | null;
  trustOnFirstUse: boolean;
}

/**
 * `runs-on: <name>` names a host of the project. A flat seed config carries the connection
 * itself (`host`, `username`, `ssh_key`, `os`): its fields fill what the hosts row lacks, and
 * with no row at all they are used alone — with no pinned key, so the first connection is
 * refused until the key is pinned with `hostrun host test` or the host is added.
 */
async function hostFor(ctx: RunTargetContext, name: string): Promise<ResolvedHost> {
  const row = await hostGetByName(ctx.pool, ctx.projectId, name);
  const inline = ctx.spec.host;
  if (!row && !inline) throw new HostrunError('not_found', `host ${name} is not defined in this project: add it with \`hostrun host add ${name} ...\``);
  const username = inline?.username ?? row?.username;
  if (!username) throw new HostrunError('invalid_spec', `host ${name} has no user name`);
  return {
    id: row?.id ?? null,
    name,
    address: row?.address ?? inline!.address,
    port: row?.port ?? inline?.port ?? 22,
    username,
    os: inline?.os ?? row?.os ?? 'linux',
    shell: row?.shell ?? null,
    keySecret: inline?.sshKeySecret ?? row?.key_secret ?? null,
    passphraseSecret: row?.passphrase_secret ?? null,
    passwordSecret: row?.password_secret ?? null,
    fingerprint: row?.host_key_fingerprint ?? null,
    trustOnFirstUse: row?.trust_on_first_use ?? false,
  };
}

async function openSecrets(ctx: RunTargetContext, names: string[]): Promise<Record<string, string>> {
  if (names.length === 0) return {};
  if (!ctx.secretKey) throw new HostrunError('unsupported', 'this worker has no secret key (HOSTRUN_SECRET_KEY), so it cannot run jobs that use secrets');
  const sealed = await secretsSealedGet(ctx.pool, ctx.projectId, names);
  const missing = names.filter((n) => !sealed.has(n));
  if (missing.length > 0) throw new HostrunError('not_found', `unknown secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: set with \`hostrun secret set NAME\``);
  const values: Record<string, string> = {};
  for (const [name, s] of sealed) values[name] = openSecret(ctx.secretKey, ctx.projectId, name, s).toString('utf8');
  return values;
}

