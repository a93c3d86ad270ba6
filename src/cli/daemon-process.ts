import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConflictError, HostrunError } from '../core/errors.ts';

// `hostrun start` as a background process: a pid file and a log file in HOSTRUN_HOME.
//
// - The child is spawned detached, so it leads a new session: closing the terminal (SIGHUP to
//   the terminal's session) does not reach it, and its stdout/stderr go to the log file.
// - The pid file is created with O_EXCL, so two `daemon start` at once cannot both spawn;
//   the loser sees the winner's file (and a pid file whose process is gone is cleared).
// - "Alive" means the pid exists, is not a zombie, and runs hostrun: after a reboot the pid
//   in a stale file may belong to something else, which must never get our signals.

export const PID_FILE = 'daemon.pid';
export const LOG_FILE = 'daemon.log';

const BIN = fileURLToPath(new URL('../../bin/hostrun.js', import.meta.url));

export interface DaemonRecord {
  pid: number;
  started_at: string;
  /** Where the daemon's API answers (what `status` asks). */
  url: string;
  /** The `hostrun start` options it was started with, reused by `restart`. */
  args: string[];
  log_file: string;
}

export interface DaemonPaths {
  home: string;
  pidFile: string;
  logFile: string;
}

export function daemonPaths(home: string): DaemonPaths {
  return { home, pidFile: path.join(home, PID_FILE), logFile: path.join(home, LOG_FILE) };
}

export function daemonRead(paths: DaemonPaths): DaemonRecord | null {
  let text: string;
  try {
    text = readFileSync(paths.pidFile, 'utf8');
  } catch {
    return null;
  }
  try {
    const record = JSON.parse(text) as DaemonRecord;
    return Number.isInteger(record.pid) && record.pid > 0 ? record : null;
  } catch {
    // A file being written right now by a concurrent start: treat as "someone else's".
    return null;
  }
}

/** True when pid is a process that has not exited (a zombie has, whatever kill(0) says). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: another user's process, so not a daemon this user started.
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true; // no /proc (macOS): kill(0) is all there is
  }
}

/** True when pid is a live (non-zombie) process that runs hostrun, as far as the OS tells. */
export function processAlive(pid: number): boolean {
  if (!processExists(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('hostrun');
  } catch {
    return true; // no /proc (macOS): kill(0) is all there is
  }
}

/** The running daemon, or null; a pid file left by a daemon that died is removed. */
export function daemonRunning(paths: DaemonPaths): DaemonRecord | null {
  const record = daemonRead(paths);
  if (!record) return null;
  if (processAlive(record.pid)) return record;
  rmSync(paths.pidFile, { force: true });
  return null;
}

export interface SpawnedDaemon {
  record: DaemonRecord;
  /** Resolves with the exit code if the child exits while this process still watches it. */
  exited: Promise<number | null>;
}

/** Spawns `hostrun start <args>` in the background; refuses when a daemon already runs. */
export function daemonSpawn(paths: DaemonPaths, opts: { args: string[]; url: string }): SpawnedDaemon {
  // Traversable (not 0700): as root the embedded Postgres runs as `postgres` under this directory.
  mkdirSync(paths.home, { recursive: true, mode: 0o755 });
  const lock = pidFileCreate(paths);
  let log: number | undefined;
  try {
    log = openSync(paths.logFile, 'a', 0o600);
    writeSync(log, `\n--- hostrun daemon start ${new Date().toISOString()}: hostrun start ${opts.args.join(' ')}\n`);
    const child = spawn(process.execPath, [BIN, 'start', ...opts.args], {
      detached: true,
      stdio: ['ignore', log, log],
      env: process.env,
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    if (child.pid === undefined) throw new HostrunError('internal', `could not start ${process.execPath} ${BIN}`);
    child.unref();
    const record: DaemonRecord = { pid: child.pid, started_at: new Date().toISOString(), url: opts.url, args: opts.args, log_file: paths.logFile };
    // Written beside it and renamed over the lock file, so a reader sees all of it or nothing.
    const tmp = `${paths.pidFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record) + '\n', { mode: 0o644 });
    renameSync(tmp, paths.pidFile);
    return { record, exited };
  } catch (err) {
    rmSync(paths.pidFile, { force: true });
    throw err;
  } finally {
    closeSync(lock);
    if (log !== undefined) closeSync(log);
  }
}

function pidFileCreate(paths: DaemonPaths): number {
  for (let attempt = 0; ; attempt++) {
    try {
      return openSync(paths.pidFile, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw alreadyRunning(paths);
      const record = daemonRead(paths);
      if (record && processAlive(record.pid)) throw alreadyRunning(paths, record);
      // An unreadable file younger than a few seconds is a concurrent start writing it.
      if (!record && Date.now() - statSync(paths.pidFile).mtimeMs < 5000) throw alreadyRunning(paths);
      rmSync(paths.pidFile, { force: true });
    }
  }
}

function alreadyRunning(paths: DaemonPaths, record?: DaemonRecord): ConflictError {
  return new ConflictError(
    record
      ? `the Hostrun daemon is already running (pid ${record.pid}, ${record.url}); stop it first: hostrun daemon stop`
      : `another \`hostrun daemon start\` holds ${paths.pidFile}; try again in a moment`,
  );
}

/**
 * SIGTERM, then waits up to timeoutMs for the process to end (the server stops taking
 * requests, running runs get their grace period, Postgres stops); then SIGKILL to its whole
 * process group (the daemon leads one), so an embedded Postgres is not left behind.
 */
export async function daemonStop(paths: DaemonPaths, record: DaemonRecord, timeoutMs: number): Promise<'stopped' | 'killed'> {
  // Not processAlive: a process that is exiting has an empty cmdline before it is a zombie,
  // and "stopped" must mean it has exited, not that it has begun to.
  const gone = () => !processExists(record.pid);
  signal(record.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone()) {
      rmSync(paths.pidFile, { force: true });
      return 'stopped';
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  signal(-record.pid, 'SIGKILL');
  signal(record.pid, 'SIGKILL');
  for (let i = 0; i < 50 && !gone(); i++) await new Promise((r) => setTimeout(r, 100));
  rmSync(paths.pidFile, { force: true });
  return 'killed';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone (or the group is): nothing to do.
  }
}

/** The last lines of the log file, for a daemon that failed to start. */
export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
