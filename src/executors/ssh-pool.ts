import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { HostrunError } from '../core/errors.ts';

// SSH connections, verified and pooled. One connection serves every step of a run and is kept
// for later runs to the same host until it has been idle for `idleMs`; a connection carries at
// most `maxChannels` sessions at once (OpenSSH's MaxSessions defaults to 10), more open a
// second connection. Host keys are pinned: an unknown key is refused unless the host trusts on
// first use (then pinned), a changed key is always refused, naming both fingerprints.

export interface SshTarget {
  /** The hosts row, when there is one: pinning writes to it. */
  hostId: string | null;
  name: string;
  address: string;
  port: number;
  username: string;
  privateKey?: string;
  passphrase?: string;
  password?: string;
  pinnedFingerprint: string | null;
  trustOnFirstUse: boolean;
}

export interface SshPoolOptions {
  connectTimeoutMs?: number;
  keepaliveMs?: number;
  idleMs?: number;
  maxChannels?: number;
  /** Pins a first-seen key; returns the key pinned (another worker may have won the race). */
  pin(target: SshTarget, fingerprint: string): Promise<string | null>;
  /** Turns a host name into an address (default: the system resolver); tests inject failures. */
  resolve?: (address: string) => Promise<string>;
}

/** An exec channel and its exit status, recorded from the first moment the channel exists. */
export interface ExecChannel {
  channel: ClientChannel;
  /** Set by the time 'close' fires (null code with a signal when killed by one). */
  exit: { code: number | null; signal: string | null } | null;
}

export interface SshLease {
  client: Client;
  /** Set when the target was verified by pinning its key just now. */
  fingerprint: string;
  /** The connection was open before this lease (so it may have died unnoticed). */
  reused: boolean;
  exec(command: string): Promise<ExecChannel>;
  release(): void;
  /** Releases and closes the connection: it turned out to be dead. */
  discard(): void;
}

interface Connection {
  key: string;
  client: Client;
  fingerprint: string;
  leases: number;
  broken: boolean;
  idleTimer: NodeJS.Timeout | null;
}

export function sshFingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

export class SshPool {
  private readonly connections = new Map<string, Connection[]>();
  private readonly opening = new Map<string, Promise<Connection>>();
  private readonly connectTimeoutMs: number;
  private readonly keepaliveMs: number;
  private readonly idleMs: number;
  private readonly maxChannels: number;
  /** Connections opened since start; tests read it to check reuse. */
  opened = 0;

  constructor(private readonly options: SshPoolOptions) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.keepaliveMs = options.keepaliveMs ?? 10_000;
    this.idleMs = options.idleMs ?? 60_000;
    this.maxChannels = options.maxChannels ?? 8;
  }

  async acquire(target: SshTarget, leaseChannels = 1): Promise<SshLease> {
    const key = poolKey(target);
    let conn = (this.connections.get(key) ?? []).find((c) => !c.broken && c.leases + leaseChannels <= this.maxChannels);
    const reused = conn !== undefined;
    if (!conn) {
      // Runs starting together share one handshake instead of opening one connection each.
      let pending = this.opening.get(key);
      if (!pending) {
        pending = this.connect(target, key).finally(() => this.opening.delete(key));
        this.opening.set(key, pending);
      }
      conn = await pending;
      if (conn.leases + leaseChannels > this.maxChannels) conn = await this.connect(target, key);
    }
    conn.leases += leaseChannels;
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.idleTimer = null;
    const c = conn;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      c.leases -= leaseChannels;
      if (c.leases === 0 && !c.broken) {
        c.idleTimer = setTimeout(() => this.drop(c), this.idleMs);
        c.idleTimer.unref();
      }
    };
    return {
      client: c.client,
      fingerprint: c.fingerprint,
      reused,
      exec: (command) => exec(c, command),
      release,
      discard: () => {
        release();
        this.drop(c);
      },
    };
  }

  closeAll(): void {
    for (const list of this.connections.values()) for (const c of list) this.drop(c);
  }

  private drop(c: Connection): void {
    c.broken = true;
    if (c.idleTimer) clearTimeout(c.idleTimer);
    const list = (this.connections.get(c.key) ?? []).filter((x) => x !== c);
    if (list.length > 0) this.connections.set(c.key, list);
    else this.connections.delete(c.key);
    c.client.end();
  }

  private async connect(target: SshTarget, key: string): Promise<Connection> {
    let address = target.address;
    if (this.options.resolve && isIP(address) === 0) {
      try {
        address = await this.options.resolve(address);
      } catch (err) {
        throw connectError(target, err as Error & { code?: string }, this.connectTimeoutMs);
      }
    }
    return this.handshake(target, key, address);
  }

  private handshake(target: SshTarget, key: string, address: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      let refusal: HostrunError | null = null;
      let fingerprint = '';
      let settled = false;
      const fail = (err: HostrunError) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(err);
      };
      const config: ConnectConfig = {
        host: address,
        port: target.port,
        username: target.username,
        readyTimeout: this.connectTimeoutMs,
        keepaliveInterval: this.keepaliveMs,
        keepaliveCountMax: 3,
        agentForward: false,
        tryKeyboard: false,
        hostVerifier: (hostKey: Buffer, verify: (ok: boolean) => void) => {
          fingerprint = sshFingerprint(hostKey);
          this.verifyHostKey(target, fingerprint).then(
            (problem) => {
              refusal = problem;
              verify(problem === null);
            },
            (err: unknown) => {
              refusal = new HostrunError('internal', `could not pin the host key of ${target.name}: ${(err as Error).message}`);
              verify(false);
            },
          );
        },
      };
      if (target.privateKey) config.privateKey = target.privateKey;
      if (target.passphrase) config.passphrase = target.passphrase;
      if (target.password) config.password = target.password;

      client.on('ready', () => {
        settled = true;
        this.opened++;
        const conn: Connection = { key, client, fingerprint, leases: 0, broken: false, idleTimer: null };
        this.connections.set(key, [...(this.connections.get(key) ?? []), conn]);
        client.on('close', () => {
          conn.broken = true;
          this.drop(conn);
        });
        resolve(conn);
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        fail(refusal ?? connectError(target, err, this.connectTimeoutMs));
      });
      client.on('close', () => fail(refusal ?? new HostrunError('unavailable', `ssh ${describe(target)}: connection closed during the handshake`)));
      try {
        client.connect(config);
      } catch (err) {
        // ssh2 throws synchronously for a key it cannot parse (e.g. a wrong passphrase).
        fail(new HostrunError('unauthorized', `ssh ${describe(target)}: cannot use the private key: ${(err as Error).message}`));
      }
    });
  }

  private async verifyHostKey(target: SshTarget, fingerprint: string): Promise<HostrunError | null> {
    if (target.pinnedFingerprint) {
      if (target.pinnedFingerprint === fingerprint) return null;
      return new HostrunError(
        'forbidden',
        `ssh ${describe(target)}: HOST KEY CHANGED: pinned ${target.pinnedFingerprint}, the host presented ${fingerprint}; ` +
          `refusing to connect (if the host was really reinstalled, update it with \`hostrun host add ${target.name} ... --fingerprint ${fingerprint}\`)`,
      );
    }
    if (!target.trustOnFirstUse) {
      return new HostrunError(
        'forbidden',
        `ssh ${describe(target)}: unknown host key ${fingerprint}; pin it with \`hostrun host test ${target.name}\` ` +
          'after checking it, or add the host with --trust-on-first-use',
      );
    }
    const pinned = target.hostId ? await this.options.pin(target, fingerprint) : fingerprint;
    target.pinnedFingerprint = pinned;
    return pinned === fingerprint ? null : this.verifyHostKey(target, fingerprint);
  }
}

function exec(c: Connection, command: string): Promise<ExecChannel> {
  return new Promise((resolve, reject) => {
    c.client.exec(command, (err, channel) => {
      if (err) {
        reject(new HostrunError('unavailable', `ssh: could not open a session: ${err.message}`, { cause: err }));
        return;
      }
      // A quick command's exit status can arrive in the same read as this confirmation, and ssh2
      // emits 'exit' right away: listen now, not after the promise resolves (one tick too late).
      // Output is safe either way: the channel buffers it until someone reads.
      const result: ExecChannel = { channel, exit: null };
      channel.on('exit', (code: number | null, signal?: string) => {
        result.exit = { code: code ?? null, signal: signal ?? null };
      });
      resolve(result);
    });
  });
}

/**
 * Connections are shared only within one host definition and one pinned key: a connection was
 * verified against its host's pin (or pinned it), and must not serve another host's runs
 * unverified, even at the same address with the same credentials.
 */
function poolKey(t: SshTarget): string {
  const secret = createHash('sha256').update(`${t.privateKey ?? ''}\0${t.passphrase ?? ''}\0${t.password ?? ''}`).digest('hex');
  return `${t.hostId ?? `inline:${t.name}`}#${t.username}@${t.address}:${t.port}#${secret}#${t.pinnedFingerprint ?? ''}`;
}

function describe(t: SshTarget): string {
  return `${t.username}@${t.address}:${t.port}${t.name !== t.address ? ` (${t.name})` : ''}`;
}

/** One line saying which of the usual failures happened. */
function connectError(target: SshTarget, err: Error & { level?: string; code?: string }, timeoutMs: number): HostrunError {
  const where = describe(target);
  if (err.code === 'ECONNREFUSED') return new HostrunError('unavailable', `ssh ${where}: connection refused`);
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new HostrunError('unavailable', `ssh ${where}: DNS lookup failed for ${target.address}`);
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return new HostrunError('unavailable', `ssh ${where}: host unreachable`);
  if (err.level === 'client-timeout' || /timed out/i.test(err.message)) {
    return new HostrunError('unavailable', `ssh ${where}: connection timed out after ${Math.round(timeoutMs / 1000)} s`);
  }
  if (err.level === 'client-authentication') return new HostrunError('unauthorized', `ssh ${where}: authentication failed (check the user and its key or password)`);
  return new HostrunError('unavailable', `ssh ${where}: ${err.message}`);
}
