import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { shellCommand } from '../core/script.ts';
import type { Executor, RunSession, StepOutcome, StepProcess } from './types.ts';

/** How long a process tree gets between SIGTERM and SIGKILL. */
export const DEFAULT_KILL_GRACE_MS = 5000;
/** How long output may keep flowing from a step's leftover children after its shell exited. */
const ORPHAN_DRAIN_MS = 250;

/**
 * Runs steps on the worker's own machine. Each step's shell leads its own process group, so
 * cancel, timeout and step end can signal the whole tree (children, pipelines, `sleep &`)
 * with one kill(-pgid) instead of chasing pids.
 */
export class LocalExecutor implements Executor {
  readonly kind = 'local';

  constructor(
    /** Directory under which each run gets its own work directory. */
    private readonly workRoot: string,
    private readonly killGraceMs = DEFAULT_KILL_GRACE_MS,
  ) {}

  async openRun(run: { id: number; attempt: number; needsDir: boolean }): Promise<RunSession> {
    // Only steps that start a process need a directory; runs of built-in steps touch no disk
    // and share one session that has none.
    if (!run.needsDir) return NO_DIRECTORY;
    const controlDir = path.join(this.workRoot, `run-${run.id}-${run.attempt}`);
    const workDir = path.join(controlDir, 'workspace');
    await mkdir(workDir, { recursive: true });
    await mkdir(path.join(controlDir, 'artifacts'));
    return {
      workDir,
      controlDir,
      os: 'linux',
      defaultShell: 'bash',
      join: (...parts) => path.join(...parts),
      runStep: (p) => this.runStep(p),
      readFile: (file) => readFile(file, 'utf8').catch(() => ''),
      collectFiles: (dir, maxBytes) => collectLocalFiles(dir, maxBytes),
      close: async ({ keepWorkDir }) => {
        if (!keepWorkDir) await rm(controlDir, { recursive: true, force: true }).catch(() => {});
      },
    };
  }

  private async runStep(p: StepProcess): Promise<StepOutcome> {
    // A working-directory: that does not exist yet is created, as GitHub's runner does.
    await mkdir(p.cwd, { recursive: true }).catch(() => {});
    return this.spawnStep(p);
  }

  private spawnStep(p: StepProcess): Promise<StepOutcome> {
    return new Promise((resolve) => {
      const { command, args } = shellCommand(p.shell);
      const child = spawn(command, args, {
        cwd: p.cwd,
        env: p.env,
        detached: true, // new process group, led by the shell
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const pgid = child.pid;
      let settled = false;
      let killTimer: NodeJS.Timeout | null = null;

      const killGroup = (signal: NodeJS.Signals): void => {
        if (pgid === undefined) return;
        try {
          process.kill(-pgid, signal);
        } catch {
          // ESRCH: the group is already gone.
        }
      };

      const onAbort = (): void => {
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), this.killGraceMs);
        killTimer.unref();
      };
      if (p.signal.aborted) onAbort();
      else p.signal.addEventListener('abort', onAbort, { once: true });

      const pipe = (stream: 'stdout' | 'stderr'): void => {
        const readable = child[stream];
        readable.on('data', (chunk: Buffer) => {
          const wait = p.onOutput(stream, chunk);
          if (wait) {
            readable.pause();
            void wait.finally(() => readable.resume());
          }
        });
      };
      pipe('stdout');
      pipe('stderr');

      const finish = (outcome: StepOutcome): void => {
        if (settled) return;
        settled = true;
        p.signal.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        // Whatever the step left running in its group (`cmd &`) ends with the step.
        killGroup('SIGKILL');
        resolve(outcome);
      };

      child.on('error', (err: NodeJS.ErrnoException) => {
        finish({ exitCode: null, signal: null, error: err.code === 'ENOENT' ? `shell not found: ${command}` : err.message });
      });
      // 'close' waits for stdout/stderr to end as well as the process, so no output is lost.
      child.on('close', (code, signal) => finish({ exitCode: code, signal }));
      // A background child (`server &`) may hold the pipes open after the shell exits; give
      // the output a moment to drain, then end the group so the step can finish.
      child.on('exit', () => {
        setTimeout(() => killGroup('SIGKILL'), ORPHAN_DRAIN_MS).unref();
      });

      child.stdin.on('error', () => {
        // EPIPE: the shell exited before reading the whole script; its exit code tells why.
      });
      child.stdin.end(p.script);
    });
  }
}

/**
 * The session of a run whose steps start no process: no directory, so nothing to collect (an
 * empty controlDir tells the worker there are no artifacts to look for: asking the disk cost a
 * failed readdir per run, a sixth of a worker's CPU on no-op runs) and nothing to remove.
 */
const NO_DIRECTORY: RunSession = {
  workDir: '',
  controlDir: '',
  os: 'linux',
  defaultShell: 'bash',
  join: (...parts) => path.join(...parts),
  runStep: () => Promise.reject(new Error('this run has no work directory: it cannot start a process')),
  readFile: () => Promise.resolve(''),
  collectFiles: () => Promise.resolve({ files: [], skipped: [] }),
  close: () => Promise.resolve(),
};

async function collectLocalFiles(dir: string, maxBytes: number): Promise<{ files: { key: string; content: Buffer }[]; skipped: string[] }> {
  const files: { key: string; content: Buffer }[] = [];
  const skipped: string[] = [];
  let total = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    // Regular files only: a symlink could point anywhere on the worker's machine.
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const key = path.relative(dir, full).split(path.sep).join('/');
    const size = (await stat(full)).size;
    if (total + size > maxBytes) {
      skipped.push(key);
      continue;
    }
    total += size;
    files.push({ key, content: await readFile(full) });
  }
  return { files, skipped };
}
