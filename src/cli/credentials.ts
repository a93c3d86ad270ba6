import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

// Tokens that `hostrun login` stored, one per server URL, in
// $HOSTRUN_CONFIG_DIR (else $XDG_CONFIG_HOME/hostrun, else ~/.config/hostrun)/credentials.json,
// mode 0600. HOSTRUN_TOKEN still wins over them; they win over the admin token file.

interface Stored {
  token: string;
  email: string;
  saved_at: string;
}

export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.HOSTRUN_CONFIG_DIR || path.join(env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'hostrun');
  return path.join(dir, 'credentials.json');
}

function readAll(file: string): Record<string, Stored> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, Stored>) : {};
  } catch {
    return {};
  }
}

export function storedToken(url: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return readAll(credentialsFile(env))[url]?.token;
}

export function storeToken(url: string, token: string, email: string, env: NodeJS.ProcessEnv = process.env): string {
  const file = credentialsFile(env);
  const all = readAll(file);
  all[url] = { token, email, saved_at: new Date().toISOString() };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

/** Forgets the token for `url`; returns it so the caller can revoke it on the server. */
export function forgetToken(url: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = credentialsFile(env);
  const all = readAll(file);
  const token = all[url]?.token;
  if (token === undefined) return undefined;
  delete all[url];
  writeFileSync(file, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
  return token;
}
