import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../src/db/embedded.ts';
import { sshFingerprint } from '../../src/executors/ssh-pool.ts';
import { startInProcessSshServer } from './ssh-server.ts';

// A real OpenSSH server on 127.0.0.1 for the SSH tests: a free port, a host key generated per
// run, and a dedicated test user that logs in with a key, a passphrase-protected key, or a
// password. Needs root (sshd's privilege separation, creating the user) and Debian's
// openssh-server, which .ci/run installs. Where either is missing, startSshd falls back to an
// in-process SSH server (ssh-server.ts) and says so.

export const SSH_TEST_USER = 'hostrun-ssh-test';

export interface TestSshd {
  /** Which server this is, for the test output. */
  kind: string;
  port: number;
  /** The user steps run as, and that user's home directory. */
  user: string;
  home: string;
  /** SHA256:... of the current host key. */
  fingerprint: string;
  /** The host key as a known_hosts line, for the OpenSSH client. */
  knownHostsLine: string;
  privateKey: string;
  encryptedKey: string;
  passphrase: string;
  password: string;
  /** Restarts sshd on the same port with a new host key (the "reinstalled host" case). */
  rotateHostKey(): Promise<void>;
  stop(): Promise<void>;
}

/** Why OpenSSH's sshd cannot run here (then startSshd uses the in-process server), or null. */
export function sshdUnavailable(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'the SSH tests need root to run sshd and create their test user';
  if (!existsSync('/usr/sbin/sshd')) return 'no /usr/sbin/sshd: install openssh-server (.ci/run does)';
  return null;
}

export async function startSshd(): Promise<TestSshd> {
  const why = sshdUnavailable();
  if (why) {
    console.log(`[hostrun tests] ${why}: the SSH tests use an in-process SSH server (ssh2's server side) instead`);
    return startInProcessSshServer();
  }
  return startOpenSshd();
}

async function startOpenSshd(): Promise<TestSshd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hostrun-sshd-'));
  chmodSync(dir, 0o755);
  ensureUser();
  const password = randomBytes(12).toString('base64url');
  execFileSync('chpasswd', { input: `${SSH_TEST_USER}:${password}\n` });

  const keygen = (file: string, passphrase = '') =>
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'hostrun-test', '-f', file], { stdio: 'ignore' });
  keygen(path.join(dir, 'id_plain'));
  const passphrase = randomBytes(9).toString('base64url');
  keygen(path.join(dir, 'id_pass'), passphrase);
  writeFileSync(
    path.join(dir, 'authorized_keys'),
    readFileSync(path.join(dir, 'id_plain.pub'), 'utf8') + readFileSync(path.join(dir, 'id_pass.pub'), 'utf8'),
    { mode: 0o644 },
  );

  const port = await freePort();
  const hostKey = path.join(dir, 'host_key');
  writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      `AllowUsers ${SSH_TEST_USER}`,
      'MaxSessions 32',
      'MaxStartups 200',
      process.env.SSHD_DEBUG ? 'LogLevel VERBOSE' : 'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  let child: ChildProcess | null = null;
  const fingerprintOf = () => {
    const pub = readFileSync(`${hostKey}.pub`, 'utf8').split(' ')[1]!;
    return sshFingerprint(Buffer.from(pub, 'base64'));
  };
  // SSHD_DEBUG=1 shows sshd's own log (VERBOSE) on stderr while a test or benchmark runs.
  const knownHostsLine = () => {
    const [type, key] = readFileSync(`${hostKey}.pub`, 'utf8').split(' ');
    return `[127.0.0.1]:${port} ${type} ${key}`;
  };
  const launch = async () => {
    rmSync(hostKey, { force: true });
    rmSync(`${hostKey}.pub`, { force: true });
    keygen(hostKey);
    child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (process.env.SSHD_DEBUG) process.stderr.write(c);
    });
    await waitForBanner(port, () => stderr);
  };
  const halt = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await launch();

  const sshd: TestSshd = {
    kind: 'OpenSSH sshd',
    port,
    user: SSH_TEST_USER,
    home: `/home/${SSH_TEST_USER}`,
    fingerprint: fingerprintOf(),
    knownHostsLine: knownHostsLine(),
    privateKey: readFileSync(path.join(dir, 'id_plain'), 'utf8'),
    encryptedKey: readFileSync(path.join(dir, 'id_pass'), 'utf8'),
    passphrase,
    password,
    async rotateHostKey() {
      await halt();
      // A reinstalled machine drops every connection; sessions outliving the listener would not.
      killUserProcesses();
      await launch();
      sshd.fingerprint = fingerprintOf();
      sshd.knownHostsLine = knownHostsLine();
    },
    async stop() {
      await halt();
      killUserProcesses();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return sshd;
}

/** Ends the test user's sessions and anything they left running. */
function killUserProcesses(): void {
  try {
    execFileSync('pkill', ['-KILL', '-u', SSH_TEST_USER], { stdio: 'ignore' });
  } catch {
    // pkill exits 1 when nothing matched
  }
}

function ensureUser(): void {
  try {
    execFileSync('id', [SSH_TEST_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/bash', SSH_TEST_USER], { stdio: 'ignore' });
  }
}

/** Waits (bounded) until sshd answers with its banner. */
async function waitForBanner(port: number, stderr: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('SSH-'));
      });
      s.once('error', () => resolve(false));
      s.setTimeout(500, () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not start on port ${port}: ${stderr()}`);
}
