import { HostrunError, InputError, type ErrorDetail } from './errors.ts';
import { JOB_NAME } from './spec-schema.ts';

// Jobs made from command-line flags (`hostrun daemon job create --name N --command C ...`,
// `hostrun cron create-from-template`): a one-step job spec in the ordinary YAML shape, so it
// goes through the normal apply path (validation, versions, schedules) like any other job.

export interface ShellJobOptions {
  /** The name as typed: `Daily Backup` becomes the job name `daily-backup`. */
  name: string;
  command: string;
  description?: string;
  schedule?: string;
  timezone?: string;
  workingDir?: string;
  priority?: number;
  env?: Record<string, string>;
  timeoutMinutes?: number;
  maxRetries?: number;
  runsOn?: string;
  /** Input declarations in the spec's own shape (templates use them). */
  inputs?: Record<string, Record<string, unknown>>;
}

/** A raw job spec (kebab-case keys, as in YAML), ready for the apply API. */
export type RawSpec = Record<string, unknown>;

/**
 * A job name from what a user typed: kept when it already is one, otherwise lowercased with
 * every run of other characters turned into `-` (`Daily Backup` -> `daily-backup`).
 */
export function jobNameFrom(display: string): string {
  if (JOB_NAME.test(display)) return display;
  const slug = display
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|-+$/g, '')
    .slice(0, 128);
  if (!JOB_NAME.test(slug)) throw new HostrunError('invalid_request', `cannot make a job name from "${display}": use letters, digits, ".", "_" and "-"`);
  return slug;
}

export function shellJobSpec(o: ShellJobOptions): RawSpec {
  const name = jobNameFrom(o.name);
  const description = o.description ?? (name !== o.name ? o.name : undefined);
  // Keys in the order a person reads a spec; undefined ones are left out entirely.
  const spec: RawSpec = {
    name,
    ...(description ? { description } : {}),
    'runs-on': o.runsOn ?? 'local',
    ...(o.inputs && Object.keys(o.inputs).length > 0 ? { inputs: o.inputs } : {}),
    ...(o.schedule ? { on: { schedule: [{ cron: o.schedule, ...(o.timezone ? { timezone: o.timezone } : {}) }] } } : {}),
    ...(o.env && Object.keys(o.env).length > 0 ? { env: o.env } : {}),
    ...(o.workingDir ? { 'working-directory': o.workingDir } : {}),
    ...(o.priority !== undefined ? { priority: o.priority } : {}),
    ...(o.timeoutMinutes !== undefined ? { 'timeout-minutes': o.timeoutMinutes } : {}),
    ...(o.maxRetries !== undefined ? { retries: { max: o.maxRetries, backoff: 'exponential' } } : {}),
    steps: [{ name: 'command', run: o.command }],
  };
  return spec;
}

const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `1h30m`, `2d` in milliseconds. A bare number is refused: its unit would be a guess. */
export function parseDuration(raw: string, what: string): number {
  const text = raw.trim();
  const whole = text.replace(DURATION_PART, '');
  if (text === '' || whole !== '') {
    throw new HostrunError('invalid_request', `${what} must be a duration such as 90s, 30m, 2h or 1h30m, not "${raw}"`);
  }
  let ms = 0;
  for (const m of text.matchAll(DURATION_PART)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms <= 0) throw new HostrunError('invalid_request', `${what} must be longer than zero`);
  return ms;
}

/** `K=V` pairs (split at the first `=`) as a map; `what` names the flag in errors. */
export function parseAssignments(list: readonly string[], what: string): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  const details: ErrorDetail[] = [];
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) details.push({ path: what, message: `expected NAME=value, got "${item}"` });
    else if (Object.hasOwn(out, item.slice(0, eq))) details.push({ path: what, message: `${item.slice(0, eq)} given more than once` });
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  if (details.length > 0) throw new InputError(`invalid ${what}: ${details[0]!.message}`, details);
  return out;
}
