import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/db/embedded.ts';

// The `hostrun` command as real processes, for end-to-end tests: a scratch directory, a
// server (`hostrun start`) against a test database, and CLI calls that talk to it over HTTP.

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(REPO, 'bin/hostrun.js');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** With DATABASE_URL, Hostrun requires a shared secret key (no default): one per test run. */
export const TEST_SECRET_KEY = randomBytes(32).toString('hex');

export interface Scratch {
  dir: string;
  home: string;
  port: number;
  url: string;
}

/** A temp directory (mode 0755: as root the embedded Postgres runs as `postgres`) and a free port. */
export async function scratch(prefix: string): Promise<Scratch> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  const port = await freePort();
  return { dir, home: path.join(dir, 'home'), port, url: `http://127.0.0.1:${port}` };
}

/** The environment a CLI call gets: this scratch's home and URL, no colour, no inherited token or database. */
export function cliEnv(s: Scratch, env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { ...process.env, DATABASE_URL: undefined, HOSTRUN_TOKEN: undefined, NO_COLOR: '1', TZ: 'UTC', HOSTRUN_HOME: s.home, HOSTRUN_URL: s.url, HOSTRUN_SECRET_KEY: TEST_SECRET_KEY, ...env };
}

export function cli(s: Scratch, args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: s.dir, env: cliEnv(s, env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hostrun ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses stdout as JSON, failing with the whole output when it is not. */
export function json<T = any>(r: Result): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

export interface Server {
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `hostrun start` against databaseUrl, resolved once /readyz answers. */
/**
 * `hostrun start` against the test database. `scheduler: false` for tests whose jobs have
 * schedules: with the real clock, a schedule that comes due mid-test would add runs the
 * assertions do not expect.
 */
export async function startServer(s: Scratch, databaseUrl: string, opts: { scheduler?: boolean } = {}): Promise<Server> {
  let output = '';
  const child = spawn(process.execPath, [BIN, 'start', ...(opts.scheduler === false ? ['--no-scheduler'] : [])], {
    cwd: s.dir,
    env: {
      ...process.env,
      HOSTRUN_HOME: s.home,
      HOSTRUN_PORT: String(s.port),
      DATABASE_URL: databaseUrl,
      HOSTRUN_SECRET_KEY: TEST_SECRET_KEY,
      LOG_LEVEL: 'warn',
      HOSTRUN_WORKER_CONCURRENCY: '4',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await waitUntilReady(s.url, () => (child.exitCode !== null ? `hostrun start exited with ${child.exitCode}:\n${output}` : null));
  return {
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function waitUntilReady(url: string, failed: () => string | null, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const why = failed();
    if (why) throw new Error(why);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}
