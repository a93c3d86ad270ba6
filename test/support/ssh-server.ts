import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { Server, utils, type Connection, type ParsedKey } from 'ssh2';
import { sshFingerprint } from '../../src/executors/ssh-pool.ts';
import type { TestSshd } from './sshd.ts';

// The fallback when no OpenSSH server can run here (no sshd binary, or not root): a real SSH
// protocol peer on 127.0.0.1 built on ssh2's server side. It checks keys (with signatures) and
// passwords like sshd, and runs each exec request through /bin/sh -c as the current user,
// stdin/stdout/stderr wired to the channel and the exit status sent back. Host keys, client
// keys and the password are generated per run.

type KeyOptions = { comment?: string; passphrase?: string; cipher?: string; rounds?: number };

/**
 * An ed25519 key pair from ssh2, regenerated when ssh2 cannot read back its own public key:
 * its writer drops a leading zero byte of the key (about 1 key in 256), which its parser then
 * rejects as malformed. Bounded: 16 bad keys in a row would mean a different bug.
 */
function ed25519KeyPair(opts: KeyOptions): { private: string; public: string } {
  for (let i = 0; i < 16; i++) {
    const pair = utils.generateKeyPairSync('ed25519', opts);
    if (!(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new Error('ssh2 produced 16 unreadable ed25519 keys in a row');
}

export async function startInProcessSshServer(): Promise<TestSshd> {
  const user = userInfo().username;
  const home = userInfo().homedir;
  const plain = ed25519KeyPair({ comment: 'hostrun-test' });
  const passphrase = randomBytes(9).toString('base64url');
  const encrypted = ed25519KeyPair({ comment: 'hostrun-test', passphrase, cipher: 'aes256-ctr', rounds: 16 });
  const password = randomBytes(12).toString('base64url');
  const allowed = [plain.public, encrypted.public].map((k) => utils.parseKey(k)).filter((k): k is ParsedKey => !(k instanceof Error));

  let server: Server | null = null;
  let port = 0;
  const clients = new Set<Connection>();
  const children = new Set<ChildProcess>();

  const launch = async (): Promise<{ fingerprint: string; knownHostsLine: string }> => {
    const hostKey = ed25519KeyPair({});
    const parsed = utils.parseKey(hostKey.public);
    if (parsed instanceof Error) throw parsed;
    server = new Server({ hostKeys: [hostKey.private] }, (client) => {
      clients.add(client);
      client.on('close', () => clients.delete(client));
      client.on('error', () => {});
      client.on('authentication', (ctx) => {
        if (ctx.username !== user) return ctx.reject();
        if (ctx.method === 'password' && ctx.password === password) return ctx.accept();
        if (ctx.method === 'publickey') {
          const key = allowed.find((k) => k.getPublicSSH().equals(ctx.key.data));
          if (key && (!ctx.signature || key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo))) return ctx.accept();
        }
        ctx.reject(['publickey', 'password']);
      });
      client.on('ready', () => {
        client.on('session', (accept) => {
          accept().on('exec', (acceptExec, _reject, info) => {
            const stream = acceptExec();
            const sock = (client as unknown as { _sock?: { remoteAddress?: string; remotePort?: number } })._sock;
            const child = spawn('/bin/sh', ['-c', info.command], {
              cwd: home,
              env: {
                PATH: process.env.PATH ?? '/usr/bin:/bin',
                HOME: home,
                USER: user,
                LOGNAME: user,
                SHELL: '/bin/sh',
                SSH_CONNECTION: `${sock?.remoteAddress ?? '127.0.0.1'} ${sock?.remotePort ?? 0} 127.0.0.1 ${port}`,
              },
              stdio: ['pipe', 'pipe', 'pipe'],
            });
            children.add(child);
            stream.pipe(child.stdin).on('error', () => {});
            child.stdout.pipe(stream, { end: false });
            child.stderr.pipe(stream.stderr, { end: false });
            child.on('close', (code, signal) => {
              children.delete(child);
              if (signal) stream.exit(signal.replace(/^SIG/, ''), false, '');
              else stream.exit(code ?? 0);
              stream.end();
            });
            stream.on('close', () => child.kill('SIGHUP'));
          });
        });
      });
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', () => resolve()));
    port = (server!.address() as AddressInfo).port;
    const [type, key] = hostKey.public.split(' ');
    return { fingerprint: sshFingerprint(parsed.getPublicSSH()), knownHostsLine: `[127.0.0.1]:${port} ${type} ${key}` };
  };

  const halt = async (): Promise<void> => {
    for (const c of clients) c.end();
    for (const ch of children) ch.kill('SIGKILL');
    const s = server;
    server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  const first = await launch();
  const sshd: TestSshd = {
    kind: 'in-process ssh2 server',
    port,
    user,
    home,
    ...first,
    privateKey: plain.private,
    encryptedKey: encrypted.private,
    passphrase,
    password,
    async rotateHostKey() {
      await halt();
      Object.assign(sshd, await launch());
    },
    stop: halt,
  };
  return sshd;
}
