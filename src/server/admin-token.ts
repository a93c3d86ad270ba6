import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Queryable } from '../db/pool.ts';
import { tokenCreate, tokenFindActive } from '../db/tokens.ts';

// The installation's admin token lives in HOSTRUN_HOME/admin-token (mode 0600), where the CLI
// on the same machine finds it without being told. The file is the only copy of the secret.

export const ADMIN_TOKEN_FILE = 'admin-token';

export interface AdminToken {
  file: string;
  created: boolean;
}

/**
 * Makes sure HOSTRUN_HOME/admin-token holds a working superadmin token: keeps the one there
 * if the database knows it, otherwise creates a new one and writes the file. A database that
 * was reset, or a home directory pointed at another database, thus heals on the next start.
 */
export async function adminTokenEnsure(db: Queryable, home: string): Promise<AdminToken> {
  const file = path.resolve(home, ADMIN_TOKEN_FILE);
  const existing = readTokenFile(file);
  if (existing) {
    const row = await tokenFindActive(db, existing);
    if (row?.is_superadmin) return { file, created: false };
  }
  const { token } = await tokenCreate(db, { name: 'admin (hostrun start)', isSuperadmin: true });
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Write beside it and rename, so a reader never sees a half-written token.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, token + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return { file, created: true };
}

export function readTokenFile(file: string): string | null {
  try {
    const token = readFileSync(file, 'utf8').trim();
    return token === '' ? null : token;
  } catch {
    return null;
  }
}
