import type { Queryable } from './pool.ts';
import type { Shell } from '../core/types.ts';

// Hosts reached over SSH. Credentials are references to secrets by name, never values.

export interface HostRow {
  id: string;
  project_id: string;
  name: string;
  address: string;
  port: number;
  username: string;
  os: 'linux' | 'windows';
  shell: Shell | null;
  labels: string[];
  key_secret: string | null;
  passphrase_secret: string | null;
  password_secret: string | null;
  host_key_fingerprint: string | null;
  trust_on_first_use: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface HostInput {
  name: string;
  address: string;
  port?: number;
  username: string;
  os?: 'linux' | 'windows';
  shell?: Shell | null;
  labels?: string[];
  keySecret?: string | null;
  passphraseSecret?: string | null;
  passwordSecret?: string | null;
  hostKeyFingerprint?: string | null;
  trustOnFirstUse?: boolean;
}

const HOST_COLUMNS = `id, project_id, name, address, port, username, os, shell, labels, key_secret, passphrase_secret,
  password_secret, host_key_fingerprint, trust_on_first_use, created_at, updated_at`;

// name: hostUpsert — $1 project, $2 name, $3 address, $4 port, $5 username, $6 os, $7 shell,
// $8 labels, $9 key secret, $10 passphrase secret, $11 password secret, $12 pinned fingerprint,
// $13 trust on first use. A changed address or port drops the pinned key (another machine);
// a fingerprint given explicitly replaces it.
const HOST_UPSERT_SQL = `
INSERT INTO hostrun.hosts (project_id, name, address, port, username, os, shell, labels, key_secret,
                           passphrase_secret, password_secret, host_key_fingerprint, trust_on_first_use)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT ON CONSTRAINT hosts_project_name_key DO UPDATE SET
  address = EXCLUDED.address, port = EXCLUDED.port, username = EXCLUDED.username, os = EXCLUDED.os,
  shell = EXCLUDED.shell, labels = EXCLUDED.labels, key_secret = EXCLUDED.key_secret,
  passphrase_secret = EXCLUDED.passphrase_secret, password_secret = EXCLUDED.password_secret,
  trust_on_first_use = EXCLUDED.trust_on_first_use, updated_at = now(),
  host_key_fingerprint = CASE
    WHEN EXCLUDED.host_key_fingerprint IS NOT NULL THEN EXCLUDED.host_key_fingerprint
    WHEN hosts.address = EXCLUDED.address AND hosts.port = EXCLUDED.port THEN hosts.host_key_fingerprint
    END
RETURNING ${HOST_COLUMNS}, (xmax = 0) AS created`;

export async function hostUpsert(db: Queryable, projectId: string, h: HostInput): Promise<{ host: HostRow; created: boolean }> {
  const { rows } = await db.query<HostRow & { created: boolean }>(HOST_UPSERT_SQL, [
    projectId,
    h.name,
    h.address,
    h.port ?? 22,
    h.username,
    h.os ?? 'linux',
    h.shell ?? null,
    h.labels ?? [],
    h.keySecret ?? null,
    h.passphraseSecret ?? null,
    h.passwordSecret ?? null,
    h.hostKeyFingerprint ?? null,
    h.trustOnFirstUse ?? false,
  ]);
  const { created, ...host } = rows[0]!;
  return { host, created };
}

// name: hostGetByName — $1 project, $2 name
export async function hostGetByName(db: Queryable, projectId: string, name: string): Promise<HostRow | null> {
  const { rows } = await db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM hostrun.hosts WHERE project_id = $1 AND name = $2`, [projectId, name]);
  return rows[0] ?? null;
}

// name: hostsList — $1 project
export async function hostsList(db: Queryable, projectId: string): Promise<HostRow[]> {
  const { rows } = await db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM hostrun.hosts WHERE project_id = $1 ORDER BY name`, [projectId]);
  return rows;
}

// name: hostDelete — $1 project, $2 name
export async function hostDelete(db: Queryable, projectId: string, name: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM hostrun.hosts WHERE project_id = $1 AND name = $2`, [projectId, name]);
  return (rowCount ?? 0) > 0;
}

// name: hostPinKey — $1 host id, $2 fingerprint. Pins only if nothing is pinned yet, so two
// workers meeting a new host at once cannot pin two different keys; returns the pinned key.
export async function hostPinKey(db: Queryable, hostId: string, fingerprint: string): Promise<string | null> {
  const { rows } = await db.query<{ host_key_fingerprint: string | null }>(
    `UPDATE hostrun.hosts SET host_key_fingerprint = coalesce(host_key_fingerprint, $2), updated_at = now()
      WHERE id = $1 RETURNING host_key_fingerprint`,
    [hostId, fingerprint],
  );
  return rows[0]?.host_key_fingerprint ?? null;
}

export interface HostLastTest {
  host_name: string;
  run_id: number;
  status: string;
  created_at: Date;
  finished_at: Date | null;
  error: string | null;
}

// name: hostsLastTests — $1 project. The newest `host test` run of each host (their runs are
// named `host-test:<host>`) of the last 30 days, for the hosts list; the window keeps this from
// reading a long history (there is no index on job names).
const HOSTS_LAST_TESTS_SQL = `
SELECT DISTINCT ON (job_name) substr(job_name, 11) AS host_name, id AS run_id, status, created_at, finished_at, error
  FROM hostrun.runs
 WHERE project_id = $1 AND trigger = 'host_test' AND starts_with(job_name, 'host-test:')
   AND created_at > now() - interval '30 days'
 ORDER BY job_name, id DESC`;

export async function hostsLastTests(db: Queryable, projectId: string): Promise<Map<string, HostLastTest>> {
  const { rows } = await db.query<HostLastTest>(HOSTS_LAST_TESTS_SQL, [projectId]);
  return new Map(rows.map((r) => [r.host_name, r]));
}
