import type { Shell } from '../core/types.ts';

// One interface for every kind of target. The worker prepares the complete script (preamble
// with the shell's own quoting + the step body) and an executor only transports it: to a
// local shell, over SSH, into a sandbox. So quoting is decided in exactly one place (core).
//
// A run opens a session on its target (a work directory, for SSH a connection held for all its
// steps), runs its steps through it, and closes it.

export type OutputStream = 'stdout' | 'stderr';

export interface StepProcess {
  /** Position of the step (null for Hostrun's own steps, e.g. the repository checkout). */
  stepIdx: number | null;
  /** The whole script, sent to the shell on stdin — never on a command line. */
  script: string;
  shell: Shell;
  /** Working directory on the target (absolute, in the target's path syntax). */
  cwd: string;
  /** Process environment (local targets); remote targets receive variables via the script. */
  env: Record<string, string>;
  /** Aborting kills the whole process tree; `signal.reason` says why (canceled, timed_out, lost). */
  signal: AbortSignal;
  /** Output as it arrives. A returned promise pauses reading until it settles (backpressure). */
  onOutput(stream: OutputStream, chunk: Buffer): Promise<void> | void;
}

export interface StepOutcome {
  /** The shell's exit code; null when it was killed by a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  /** Why the step could not run at all (e.g. the shell is missing, the host is gone); shown to the user. */
  error?: string;
}

export interface RunSession {
  /** The run's workspace on the target (absolute): steps run and `repository:` is cloned here. */
  workDir: string;
  /** Beside the workspace, for Hostrun's own files (step outputs, process ids), so a checkout
   *  finds an empty workspace and a step's files never mix with ours. */
  controlDir: string;
  os: 'linux' | 'windows';
  /** The shell a step uses when neither it nor its job names one. */
  defaultShell: Shell;
  /** Joins paths in the target's syntax. */
  join(...parts: string[]): string;
  runStep(p: StepProcess): Promise<StepOutcome>;
  /** A small file a step wrote (its outputs); '' when it does not exist. */
  readFile(file: string): Promise<string>;
  /**
   * The files under `dir` (keys are paths relative to it, with `/`), for artifacts. Stops
   * before `maxBytes` in total; files that would pass it are reported in `skipped`.
   */
  collectFiles(dir: string, maxBytes: number): Promise<{ files: { key: string; content: Buffer }[]; skipped: string[] }>;
  close(options: { keepWorkDir: boolean }): Promise<void>;
}

export interface Executor {
  readonly kind: string;
  openRun(run: { id: number; attempt: number; needsDir: boolean }): Promise<RunSession>;
}
