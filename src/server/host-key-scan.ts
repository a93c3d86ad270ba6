import { Client } from 'ssh2';
import { HostrunError } from '../core/errors.ts';
import { sshFingerprint } from '../executors/ssh-pool.ts';

// Reads the host key an SSH server presents, without logging in: the handshake is aborted as
// soon as the key arrives (the verifier says no), so no credential is ever sent and nothing is
// pinned here. The web UI shows this fingerprint to a person, who compares it with the one the
// machine reports (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`) before pinning it.
//
// This is the one SSH handshake the API server itself makes (runs connect from workers): a
// host only an agent can reach cannot be scanned here, and is pinned with `--fingerprint`.

export interface ScannedHostKey {
  /** `SHA256:...`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** The key's type: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `rsa-sha2-512`... */
  algorithm: string;
}

const SCAN_TIMEOUT_MS = 10_000;

/**
 * A host the server cannot reach is a problem with the request's target, not with the API:
 * 422, never 503 (which clients, the web UI among them, read as "the API is down").
 */
const UNREACHABLE = 'unsupported';

export function hostKeyScan(target: { address: string; port: number }, timeoutMs = SCAN_TIMEOUT_MS): Promise<ScannedHostKey> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let scanned: ScannedHostKey | null = null;
    let settled = false;
    const where = `${target.address}:${target.port}`;
    const finish = (err: HostrunError | null) => {
      if (settled) return;
      settled = true;
      client.end();
      if (scanned) resolve(scanned);
      else reject(err ?? new HostrunError(UNREACHABLE, `ssh ${where}: the connection closed before the host presented a key`));
    };
    client.on('error', (err: Error & { code?: string; level?: string }) => finish(scanned ? null : scanError(where, err, timeoutMs)));
    client.on('close', () => finish(null));
    client.on('ready', () => finish(null));
    try {
      client.connect({
        host: target.address,
        port: target.port,
        username: 'hostrun-key-scan',
        readyTimeout: timeoutMs,
        tryKeyboard: false,
        agentForward: false,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          scanned = { fingerprint: sshFingerprint(key), algorithm: keyAlgorithm(key) };
          // Refusing the key ends the handshake before authentication.
          verify(false);
        },
      });
    } catch (err) {
      finish(new HostrunError(UNREACHABLE, `ssh ${where}: ${(err as Error).message}`));
    }
  });
}

/** The first field of an SSH public key blob is its type, as a length-prefixed string. */
function keyAlgorithm(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || blob.length < 4 + len) return 'unknown';
  return blob.subarray(4, 4 + len).toString('ascii');
}

function scanError(where: string, err: Error & { code?: string; level?: string }, timeoutMs: number): HostrunError {
  if (err.code === 'ECONNREFUSED') return new HostrunError(UNREACHABLE, `ssh ${where}: connection refused`);
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new HostrunError(UNREACHABLE, `ssh ${where}: DNS lookup failed`);
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return new HostrunError(UNREACHABLE, `ssh ${where}: host unreachable`);
  if (err.level === 'client-timeout' || /timed out/i.test(err.message)) {
    return new HostrunError(UNREACHABLE, `ssh ${where}: no answer within ${Math.round(timeoutMs / 1000)} s`);
  }
  return new HostrunError(UNREACHABLE, `ssh ${where}: ${err.message}`);
}
