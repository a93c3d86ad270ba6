import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HostrunError } from '../core/errors.ts';

// Secrets are sealed with AES-256-GCM under one installation key. The additional data binds
// each ciphertext to its project and name, so a row copied onto another secret's row does not
// decrypt. `keyId` (a hash prefix of the key) says which key sealed a value, so a process
// started with the wrong key fails with a clear message instead of garbage.

export interface SecretKey {
  id: string;
  key: Buffer;
}

export interface Sealed {
  ciphertext: Buffer;
  nonce: Buffer;
  authTag: Buffer;
  keyId: string;
}

export const SECRET_KEY_FILE = 'secret-key';

export function parseSecretKey(text: string): SecretKey {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) {
    throw new HostrunError('invalid_request', 'HOSTRUN_SECRET_KEY must be 32 bytes, as 64 hex digits or base64 (generate one with: openssl rand -hex 32)');
  }
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 12), key };
}

/**
 * The key comes from HOSTRUN_SECRET_KEY. Only a single-machine installation (embedded
 * Postgres) may generate its own, once, into HOSTRUN_HOME; with DATABASE_URL, servers and
 * workers on several machines must share one key, so a missing key is an error, not a default.
 */
export function loadSecretKey(opts: { env?: NodeJS.ProcessEnv; home: string; embedded: boolean }): SecretKey {
  const env = opts.env ?? process.env;
  if (env.HOSTRUN_SECRET_KEY) return parseSecretKey(env.HOSTRUN_SECRET_KEY);
  const file = path.join(opts.home, SECRET_KEY_FILE);
  if (existsSync(file)) return parseSecretKey(readFileSync(file, 'utf8'));
  if (!opts.embedded) {
    throw new HostrunError(
      'unsupported',
      'HOSTRUN_SECRET_KEY is not set: with DATABASE_URL every server and worker must share one secret key; ' +
        'generate one with `openssl rand -hex 32` and set it in the environment of each process',
    );
  }
  const hex = randomBytes(32).toString('hex');
  writeFileSync(file, hex + '\n', { mode: 0o600, flag: 'wx' });
  return parseSecretKey(hex);
}

function aad(projectId: string, name: string): Buffer {
  return Buffer.from(`hostrun-secret:${projectId}:${name}`);
}

export function sealSecret(key: SecretKey, projectId: string, name: string, plaintext: Buffer): Sealed {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(aad(projectId, name));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, nonce, authTag: cipher.getAuthTag(), keyId: key.id };
}

export function openSecret(key: SecretKey, projectId: string, name: string, sealed: Sealed): Buffer {
  if (sealed.keyId !== key.id) {
    throw new HostrunError('unsupported', `secret ${name} was sealed with key ${sealed.keyId}, but this process has key ${key.id}: all processes must share HOSTRUN_SECRET_KEY`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, sealed.nonce);
    decipher.setAAD(aad(projectId, name));
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch (err) {
    throw new HostrunError('internal', `secret ${name} could not be decrypted (tampered with, or moved from another secret)`, { cause: err });
  }
}
