import path from 'node:path';
import type { Shell } from '../core/types.ts';
import { HostrunError } from '../core/errors.ts';
import { remoteCat, remoteKill, remoteListFiles, remoteRead, remoteRemove, remoteStep, remoteWorkDir, type RemoteOs } from './remote-commands.ts';
import type { ExecChannel, SshLease, SshPool, SshTarget } from './ssh-pool.ts';
import type { Executor, RunSession, StepOutcome, StepProcess } from './types.ts';

// Runs steps on a host over SSH. A run holds one pooled connection for all of its steps;
// each step is one exec channel whose script arrives on stdin. Cancel and timeout kill the
// remote process group from a second channel, and the step ends in its state even when the
// host no longer answers (the kill itself is bounded by `killTimeoutMs`).

export interface SshExecutorOptions {
  pool: SshPool;
  target: SshTarget;
  os: RemoteOs;
  shell: Shell | null;
  killGraceMs?: number;
}

export class SshExecutor implements Executor {
  readonly kind = 'ssh';

  constructor(private readonly options: SshExecutorOptions) {}

  async openRun(run: { id: number; attempt: number; needsDir: boolean }): Promise<RunSession> {
    const { pool, target, os } = this.options;
    // A pooled connection may have died while idle (host rebooted, NAT timeout) without us
    // hearing of it yet: if the first session on it cannot even open, reconnect once.
    for (let tries = 1; ; tries++) {
      const lease = await pool.acquire(target);
      try {
        const controlDir = (await runCapture(lease, run.needsDir ? remoteWorkDir(os, run.id, run.attempt) : 'true')).toString('utf8').trim();
        if (run.needsDir && !controlDir) throw new HostrunError('unavailable', `ssh ${target.name}: could not create the run's work directory`);
        return new SshSession(lease, this.options, controlDir, run.needsDir);
      } catch (err) {
        const stale = lease.reused && err instanceof SessionOpenError;
        if (stale) lease.discard();
        else lease.release();
        if (!stale || tries >= 2) throw err;
      }
    }
  }
}

class SshSession implements RunSession {
  readonly os: RemoteOs;
  readonly defaultShell: Shell;
  private readonly killGraceMs: number;
  readonly workDir: string;

  constructor(
    private readonly lease: SshLease,
    private readonly options: SshExecutorOptions,
    readonly controlDir: string,
    private readonly ownsDir: boolean,
  ) {
    this.os = options.os;
    this.workDir = controlDir ? this.join(controlDir, 'workspace') : '';
    this.defaultShell = options.shell ?? (options.os === 'windows' ? 'powershell' : 'bash');
    this.killGraceMs = options.killGraceMs ?? 5000;
  }

  join(...parts: string[]): string {
    return this.os === 'windows' ? path.win32.join(...parts) : path.posix.join(...parts);
  }

  async runStep(p: StepProcess): Promise<StepOutcome> {
    const pidFile = this.join(this.controlDir, `pid-${p.stepIdx ?? 'setup'}`);
    const { command, prefix } = remoteStep(this.os, p.shell, pidFile, p.cwd);
    let exec: ExecChannel;
    try {
      exec = await this.lease.exec(command);
    } catch (err) {
      return { exitCode: null, signal: null, error: (err as Error).message };
    }
    const { channel } = exec;
    return new Promise<StepOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: StepOutcome) => {
        if (settled) return;
        settled = true;
        p.signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const pipe = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr') => {
        stream.on('data', (chunk: Buffer) => {
          const wait = p.onOutput(name, chunk);
          if (wait) {
            stream.pause(); // stops window adjustments: the remote side stops sending
            void wait.finally(() => stream.resume());
          }
        });
      };
      pipe(channel, 'stdout');
      pipe(channel.stderr, 'stderr');
      channel.on('close', () => finish({ exitCode: exec.exit?.code ?? null, signal: exec.exit?.signal ?? null }));
      channel.on('error', (err: Error) => finish({ exitCode: null, signal: null, error: `ssh ${this.options.target.name}: ${err.message}` }));
      // The connection dying (keepalive timeout, host gone) ends the step rather than hanging it.
      const onConnectionGone = () => finish({ exitCode: null, signal: null, error: `ssh ${this.options.target.name}: connection lost` });
      this.lease.client.once('close', onConnectionGone);
      channel.on('close', () => this.lease.client.removeListener('close', onConnectionGone));

      const onAbort = () => {
        void this.kill(pidFile).finally(() => {
          channel.close();
          finish({ exitCode: exec.exit?.code ?? null, signal: exec.exit?.signal ?? 'TERM' });
        });
      };
      if (p.signal.aborted) onAbort();
      else p.signal.addEventListener('abort', onAbort, { once: true });

      channel.end(prefix + p.script);
    });
  }

  /** Best effort and bounded: a host that stopped answering must not keep the step alive. */
  private async kill(pidFile: string): Promise<void> {
    const command = remoteKill(this.os, pidFile, this.killGraceMs / 1000);
    await Promise.race([
      runCapture(this.lease, command).catch(() => Buffer.alloc(0)),
      new Promise((r) => setTimeout(r, this.killGraceMs + 5000).unref()),
    ]);
  }

  async readFile(file: string): Promise<string> {
    return (await runCapture(this.lease, remoteRead(this.os, file)).catch(() => Buffer.alloc(0))).toString('utf8');
  }

  async collectFiles(dir: string, maxBytes: number): Promise<{ files: { key: string; content: Buffer }[]; skipped: string[] }> {
    const listing = (await runCapture(this.lease, remoteListFiles(this.os, dir)).catch(() => Buffer.alloc(0))).toString('utf8');
    const files: { key: string; content: Buffer }[] = [];
    const skipped: string[] = [];
    let total = 0;
    for (const line of listing.split('\n')) {
      const m = /^(\d+) (.+)$/.exec(line.trim());
      if (!m) continue;
      const size = Number(m[1]);
      const key = m[2]!;
      if (total + size > maxBytes) {
        skipped.push(key);
        continue;
      }
      total += size;
      files.push({ key, content: await runCapture(this.lease, remoteCat(this.os, this.join(dir, key))) });
    }
    return { files, skipped };
  }

  async close({ keepWorkDir }: { keepWorkDir: boolean }): Promise<void> {
    try {
      if (this.ownsDir && !keepWorkDir) await runCapture(this.lease, remoteRemove(this.os, this.controlDir)).catch(() => Buffer.alloc(0));
    } finally {
      this.lease.release();
    }
  }
}

/** The connection would not even open a session: it is gone. */
class SessionOpenError extends HostrunError {}

/** Runs one of our own commands and returns its stdout; fails on a non-zero exit. */
async function runCapture(lease: SshLease, command: string): Promise<Buffer> {
  let exec: ExecChannel;
  try {
    exec = await lease.exec(command);
  } catch (err) {
    throw new SessionOpenError('unavailable', (err as Error).message, { cause: err });
  }
  const { channel } = exec;
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    channel.on('data', (c: Buffer) => out.push(c));
    channel.stderr.on('data', (c: Buffer) => err.push(c));
    channel.on('close', () => {
      if (exec.exit?.code === 0) return resolve(Buffer.concat(out));
      const how = exec.exit?.signal ? `signal ${exec.exit.signal}` : `exit ${exec.exit?.code ?? 'unknown'}`;
      reject(new HostrunError('unavailable', `remote command failed (${how}): ${Buffer.concat(err).toString('utf8').trim().split('\n')[0] ?? ''}`));
    });
    channel.end();
  });
}
