import { posixQuote, powerShellString } from '../core/script-preamble.ts';
import type { Shell } from '../core/types.ts';

// The exact commands sent to a remote host, kept pure so golden tests can pin every byte.
// Scripts always go on stdin; the command line carries only our own fixed words and paths we
// generated (quoted anyway). On Linux each step's shell runs under `setsid`, so it leads its own
// process group and cancel/timeout can end the whole remote tree with one kill(-pgid).

export type RemoteOs = 'linux' | 'windows';

export interface RemoteStep {
  /** The exec request's command line. */
  command: string;
  /** Written to stdin before the step's script: records the group id, enters the directory. */
  prefix: string;
}

export function remoteStep(os: RemoteOs, shell: Shell, pidFile: string, cwd: string): RemoteStep {
  if (os === 'windows') {
    if (shell === 'cmd') {
      // cmd has no $PID: a canceled cmd step is ended by closing its channel (see README).
      return { command: 'cmd /D /Q /V:ON', prefix: `cd /d "${cwd}"\r\n` };
    }
    const exe = shell === 'pwsh' ? 'pwsh' : 'powershell';
    return {
      command: `${exe} -NoProfile -NonInteractive -Command -`,
      prefix: `$PID | Set-Content -LiteralPath ${powerShellString(pidFile)}\nSet-Location -LiteralPath ${powerShellString(cwd)}\n`,
    };
  }
  // -w: setsid forks when its caller already leads a group; without -w it would exit 0 at once.
  const sh = shell === 'sh' ? 'setsid -w sh -e -s' : 'setsid -w bash --noprofile --norc -e -o pipefail -s';
  return { command: sh, prefix: `printf '%s' "$$" > ${posixQuote(pidFile)}\ncd -- ${posixQuote(cwd)}\n` };
}

/**
 * Ends a step's process tree: SIGTERM to its group, SIGKILL after `graceSeconds`. Written for
 * any POSIX sh, not just bash: the login shell that runs it may be dash, whose kill takes no
 * `--` (a signal named first makes the negative number a process group).
 */
export function remoteKill(os: RemoteOs, pidFile: string, graceSeconds: number): string {
  if (os === 'windows') {
    return `powershell -NoProfile -NonInteractive -Command "taskkill /T /F /PID (Get-Content -LiteralPath ${powerShellString(pidFile)})"`;
  }
  const ticks = Math.max(1, Math.round(graceSeconds * 10));
  return (
    `pg=$(cat -- ${posixQuote(pidFile)} 2>/dev/null) || exit 0; case "$pg" in ''|*[!0-9]*) exit 0;; esac; ` +
    `kill -TERM "-$pg" 2>/dev/null || exit 0; i=0; ` +
    `while [ "$i" -lt ${ticks} ]; do kill -0 "-$pg" 2>/dev/null || exit 0; sleep 0.1; i=$((i+1)); done; ` +
    `kill -KILL "-$pg" 2>/dev/null; exit 0`
  );
}

/**
 * Creates the run's directory (private to the user) with its `workspace` and `artifacts`
 * inside, and prints the run directory's absolute path.
 */
export function remoteWorkDir(os: RemoteOs, runId: number, attempt: number): string {
  const leaf = `run-${Math.trunc(runId)}-${Math.trunc(attempt)}`;
  if (os === 'windows') {
    return `powershell -NoProfile -NonInteractive -Command "$d = Join-Path $env:TEMP 'hostrun\\${leaf}'; New-Item -ItemType Directory -Force -Path (Join-Path $d 'workspace'), (Join-Path $d 'artifacts') | Out-Null; (Resolve-Path -LiteralPath $d).Path"`;
  }
  return `umask 077 && d="$HOME/.hostrun/work/${leaf}" && mkdir -p -- "$d/workspace" "$d/artifacts" && cd -- "$d" && pwd`;
}

export function remoteRemove(os: RemoteOs, dir: string): string {
  if (os === 'windows') return `powershell -NoProfile -NonInteractive -Command "Remove-Item -Recurse -Force -LiteralPath ${powerShellString(dir)}"`;
  return `rm -rf -- ${posixQuote(dir)}`;
}

/** Prints a small file a step wrote (its outputs), or nothing when it does not exist. */
export function remoteRead(os: RemoteOs, file: string): string {
  if (os === 'windows') {
    return `powershell -NoProfile -NonInteractive -Command "if (Test-Path -LiteralPath ${powerShellString(file)}) { Get-Content -Raw -LiteralPath ${powerShellString(file)} }"`;
  }
  return `cat -- ${posixQuote(file)} 2>/dev/null || true`;
}

/** Lists the regular files under `dir` as `<size> <relative path>` lines (GNU find). */
export function remoteListFiles(os: RemoteOs, dir: string): string {
  if (os === 'windows') {
    return `powershell -NoProfile -NonInteractive -Command "if (Test-Path -LiteralPath ${powerShellString(dir)}) { Get-ChildItem -Recurse -File -LiteralPath ${powerShellString(dir)} | ForEach-Object { '{0} {1}' -f $_.Length, $_.FullName.Substring((Resolve-Path -LiteralPath ${powerShellString(dir)}).Path.Length + 1).Replace('\\', '/') } }"`;
  }
  return `cd -- ${posixQuote(dir)} 2>/dev/null && find . -type f -printf '%s %P\\n' || true`;
}

/** Prints one file's bytes. */
export function remoteCat(os: RemoteOs, file: string): string {
  if (os === 'windows') return `powershell -NoProfile -NonInteractive -Command "[Console]::OpenStandardOutput().Write([IO.File]::ReadAllBytes(${powerShellString(file)}), 0, (Get-Item -LiteralPath ${powerShellString(file)}).Length)"`;
  return `cat -- ${posixQuote(file)}`;
}
