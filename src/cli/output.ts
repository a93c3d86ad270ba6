import { formatDetails, HostrunError, type ErrorCode } from '../core/errors.ts';
import type { RunStatus } from '../core/types.ts';

// Everything the CLI prints goes through here: tables sized to the terminal, colour only on a
// TTY (and never with NO_COLOR), JSON for --json, and the one mapping of errors to exit codes.

export const EXIT = {
  ok: 0,
  /** The run failed (when waiting for it without its own exit code), or an unexpected error. */
  failure: 1,
  usage: 2,
  notFound: 3,
  unreachable: 4,
  auth: 5,
  /** A run that timed out, like timeout(1). */
  runTimedOut: 124,
  /** A run that was canceled, like a shell's Ctrl-C. */
  runCanceled: 130,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    the run failed (no exit code of its own), or another error (conflict, server error)
  2    usage or validation error: bad options, invalid job spec, invalid input
  3    not found: unknown job or run
  4    the server cannot be reached
  5    authentication or permission refused (HOSTRUN_TOKEN, HOSTRUN_HOME/admin-token)
  run --wait/--follow (and daemon job start / cron start --wait) exit with the run's outcome:
  0 succeeded; failed: the run's exit code (1 if it has none); 124 timed out; 130 canceled.
  daemon status: 0 running (or a server answers), 3 not running.`;

const EXIT_BY_CODE: Record<ErrorCode, number> = {
  invalid_spec: EXIT.usage,
  invalid_input: EXIT.usage,
  invalid_request: EXIT.usage,
  unsupported: EXIT.usage,
  not_found: EXIT.notFound,
  unavailable: EXIT.unreachable,
  unauthorized: EXIT.auth,
  forbidden: EXIT.auth,
  rate_limited: EXIT.auth,
  conflict: EXIT.failure,
  database: EXIT.failure,
  internal: EXIT.failure,
};

/** The process exit code for the outcome of a finished run. */
export function runExitCode(run: { status: RunStatus; exit_code: number | null }): number {
  switch (run.status) {
    case 'succeeded':
      return EXIT.ok;
    case 'timed_out':
      return EXIT.runTimedOut;
    case 'canceled':
      return EXIT.runCanceled;
    default:
      // A shell exit code is 1..255; anything else (none, a signal's negative) is plain failure.
      return run.exit_code !== null && run.exit_code >= 1 && run.exit_code <= 255 ? run.exit_code : EXIT.failure;
  }
}

/** Prints an error as one line (plus one indented line per detail) and returns its exit code. */
export function reportError(err: unknown): number {
  const error = err instanceof HostrunError ? err : new HostrunError('internal', (err as Error)?.message ?? String(err));
  process.stderr.write(`${paint('red', 'error:')} ${error.message}\n`);
  // A single detail the message already spells out is not repeated underneath it.
  const [only] = error.details;
  const repeated = error.details.length === 1 && only !== undefined && error.message.includes(only.message);
  if (error.details.length > 0 && !repeated) {
    process.stderr.write(formatDetails(error.details).replace(/^/gm, '  ') + '\n');
  }
  return EXIT_BY_CODE[error.code];
}

// ---------------------------------------------------------------------------------------
// Colour and tables
// ---------------------------------------------------------------------------------------

type Colour = 'red' | 'green' | 'yellow' | 'blue' | 'dim' | 'bold';
const SGR: Record<Colour, [number, number]> = { red: [31, 39], green: [32, 39], yellow: [33, 39], blue: [34, 39], dim: [2, 22], bold: [1, 22] };

function colourOn(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
}

export function paint(colour: Colour, text: string, stream: NodeJS.WriteStream = process.stderr): string {
  if (!colourOn(stream)) return text;
  const [on, off] = SGR[colour];
  return `\x1b[${on}m${text}\x1b[${off}m`;
}

export function statusText(status: string): string {
  const colour: Colour | undefined =
    status === 'succeeded' ? 'green' : status === 'failed' || status === 'timed_out' ? 'red' : status === 'canceled' ? 'dim' : status === 'running' ? 'blue' : status === 'queued' || status === 'claimed' ? 'yellow' : undefined;
  return colour ? paint(colour, status, process.stdout) : status;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Cut first when the table is wider than the terminal. */
  flexible?: boolean;
  /** Applied after widths are computed, so escape codes never count as width. */
  style?: (text: string) => string;
}

export function printTable<T>(rows: T[], columns: Column<T>[]): void {
  const cells = rows.map((row) => columns.map((c) => oneLine(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const width = process.stdout.isTTY ? process.stdout.columns || 120 : Infinity;
  let total = widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
  // Shrink flexible columns (descriptions, errors) until the table fits, never below 8 characters.
  for (let i = columns.length - 1; i >= 0 && total > width; i--) {
    if (!columns[i]!.flexible) continue;
    const cut = Math.min(total - width, widths[i]! - 8);
    if (cut > 0) {
      widths[i]! -= cut;
      total -= cut;
    }
  }
  const line = (values: string[], styled: boolean) =>
    values
      .map((v, i) => {
        const w = widths[i]!;
        const text = v.length > w ? v.slice(0, Math.max(0, w - 1)) + '…' : v;
        const padded = i === values.length - 1 ? text : text.padEnd(w);
        const style = columns[i]!.style;
        return styled && style ? padded.replace(text, style(text)) : padded;
      })
      .join('  ')
      .trimEnd();
  process.stdout.write(paint('bold', line(columns.map((c) => c.header), false), process.stdout) + '\n');
  for (const row of cells) process.stdout.write(line(row, true) + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** "3m ago" style age of a timestamp, for tables. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 0) return `in ${duration(-s * 1000)}`;
  return `${duration(s * 1000)} ago`;
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86400)}d`;
}

/** A duration for report figures, sub-second precise: `-`, `850ms`, `12.4s`, `3m 5s`. */
export function millis(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return duration(ms);
}

/** A 0..1 fraction as a percentage with one decimal, `-` when there is none. */
export function percent(fraction: number | null | undefined): string {
  return fraction === null || fraction === undefined ? '-' : `${(fraction * 100).toFixed(1)}%`;
}

/** `label  value` lines with aligned, bold labels, for detail views. */
export function printFields(fields: [label: string, value: string][]): void {
  const width = Math.max(0, ...fields.map(([l]) => l.length));
  for (const [label, value] of fields) process.stdout.write(`${paint('bold', label.padEnd(width), process.stdout)}  ${value}\n`);
}

export function printHeading(text: string): void {
  process.stdout.write(`\n${paint('bold', text, process.stdout)}\n`);
}

export interface Spinner {
  update(text: string): void;
  stop(): void;
}

const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A spinner with a status text on stderr while the CLI waits. Only on a terminal: piped or
 * redirected output gets nothing, so scripts and logs never see the frames.
 */
export function spinner(text: string, stream: NodeJS.WriteStream = process.stderr): Spinner {
  if (!stream.isTTY) return { update() {}, stop() {} };
  let frame = 0;
  let current = text;
  const draw = () => stream.write(`\r\x1b[2K${paint('blue', SPINNER_FRAMES[frame++ % SPINNER_FRAMES.length]!, stream)} ${current}`);
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  return {
    update(next) {
      current = next;
    },
    stop() {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}
