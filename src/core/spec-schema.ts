// The shape of a job spec as users write it (kebab-case keys, GitHub-Actions-like), and
// the flat shape of examples/seed-config.json. Objects are strict: an unknown key is an
// error, so a typo (`timeout_minutes`) never silently does nothing. Shorthands (a bare
// string for `concurrency`, a number for `retries`, ...) are expanded before validation,
// so each has a single error wording. Cross-field rules live in spec-checks.ts.

import { z } from 'zod';
import { buildInputSpec } from './inputs.ts';
import { SHELL_VARIABLE_NAME } from './script-variables.ts';

export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Input names and step ids: usable as `inputs.<name>` / `steps.<id>` in expressions. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Host names, labels: what `runs-on` may name. */
const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Host addresses (names, IPv4, IPv6). Never starting with `-`: it would read as an ssh option. */
const HOST_ADDRESS = /^(?!-)[A-Za-z0-9._:%[\]-]{1,255}$/;
/** Git URLs: https/http/ssh/git/file URLs, scp-like `user@host:path`, or absolute paths. */
const REPOSITORY_URL = /^(?:(?:https?|ssh|git|file):\/\/[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+|\/[^\s]*)$/;
/** Branches, tags, commits. Never starting with `-`: it would read as a git option. */
const GIT_REF = /^(?!-)[A-Za-z0-9._/@+-]+$/;
const EVERY = /^[1-9][0-9]*[smhd]$/;
const CRON_MACROS = new Set(['@hourly', '@daily', '@weekly', '@monthly', '@yearly', '@annually']);
const CRON_FIELD = /^[0-9A-Za-z*,/?#-]+$/;

export const SHELLS = ['bash', 'sh', 'pwsh', 'powershell', 'cmd'] as const;
export const FLAT_MARKERS = ['host', 'username', 'ssh_key', 'os'] as const;

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const nonEmpty = z.string().min(1);
const positiveMinutes = z.number().positive();

const envMap = z.record(
  z
    .string()
    .regex(SHELL_VARIABLE_NAME, { error: 'invalid variable name: use letters, digits and _, not starting with a digit' })
    .refine((k) => !k.startsWith('HOSTRUN_'), { error: 'names starting with HOSTRUN_ are reserved for the runner' }),
  scalar,
);

/** Loose: the scheduler owns real cron parsing; this catches the wrong number of fields. */
export function cronProblem(cron: string): string | undefined {
  const text = cron.trim();
  if (text.startsWith('@')) return CRON_MACROS.has(text) ? undefined : `unknown macro ${text} (use ${[...CRON_MACROS].join(', ')})`;
  const fields = text.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return `expected 5 or 6 fields (or @hourly, @daily, ...), got ${fields.length}`;
  const bad = fields.find((f) => !CRON_FIELD.test(f));
  return bad === undefined ? undefined : `invalid field "${bad}"`;
}

export function timezoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: timezone });
    return undefined;
  } catch {
    return `unknown time zone "${timezone}" (use an IANA name such as Europe/Berlin, or UTC)`;
  }
}

const timezone = z.string().superRefine((tz, ctx) => {
  const problem = timezoneProblem(tz);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const inputDeclaration = z
  .strictObject({
    type: z.enum(['string', 'number', 'boolean', 'choice']).optional(),
    description: z.string().optional(),
    default: scalar.optional(),
    required: z.boolean().optional(),
    pattern: z.string().optional(),
    options: z.array(scalar).min(1).optional(),
  })
  .superRefine((raw, ctx) => {
    for (const p of buildInputSpec(raw).problems) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  });

const inputsMap = z.record(
  z.string().regex(IDENTIFIER, { error: 'invalid input name: use letters, digits, _ and -, starting with a letter or _' }),
  // `ip: 1.2.3.4` declares a default; `ip:` alone an optional string input.
  z.preprocess((v) => (v === null ? {} : isMapping(v) ? v : { default: v }), inputDeclaration),
);

const scheduleObject = z
  .strictObject({
    cron: z.string().optional(),
    every: z.string().optional(),
    timezone: timezone.optional(),
    inputs: z.record(z.string(), scalar).optional(),
    misfire: z.enum(['skip', 'once', 'all']).optional(),
    enabled: z.boolean().optional(),
  })
  .superRefine((s, ctx) => {
    if (s.cron === undefined && s.every === undefined) ctx.addIssue({ code: 'custom', path: ['cron'], message: 'required (or "every")' });
    if (s.cron !== undefined && s.every !== undefined) ctx.addIssue({ code: 'custom', path: ['every'], message: 'give either cron or every, not both' });
    const cron = s.cron === undefined ? undefined : cronProblem(s.cron);
    if (cron) ctx.addIssue({ code: 'custom', path: ['cron'], message: cron });
    if (s.every !== undefined && !EVERY.test(s.every)) {
      ctx.addIssue({ code: 'custom', path: ['every'], message: 'expected an interval such as 30s, 15m, 1h or 2d' });
    }
  });

/** One schedule, a list, or a bare cron string (`schedule: "0 * * * *"`). */
const scheduleList = z.preprocess(
  (v) => (typeof v === 'string' || isMapping(v) ? [v] : v),
  z.array(z.preprocess((v) => (typeof v === 'string' ? { cron: v } : v), scheduleObject)),
);

const stepSchema = z
  .strictObject({
    id: z.string().regex(IDENTIFIER, { error: 'invalid step id: use letters, digits, _ and -, starting with a letter or _' }).optional(),
    name: nonEmpty.optional(),
    run: z.string().optional(),
    uses: z.enum(['noop', 'sleep']).optional(),
    with: z.record(z.string(), scalar).optional(),
    env: envMap.optional(),
    // YAML reads `if: true` as a boolean; it is a condition all the same.
    if: z.preprocess((v) => (typeof v === 'boolean' ? String(v) : v), nonEmpty).optional(),
    shell: z.enum(SHELLS).optional(),
    'working-directory': nonEmpty.optional(),
    'continue-on-error': z.boolean().optional(),
    'timeout-minutes': positiveMinutes.optional(),
  })
  .superRefine((step, ctx) => {
    const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    if (step.run === undefined && step.uses === undefined) issue(['run'], 'required (or "uses")');
    if (step.run !== undefined && step.uses !== undefined) issue(['uses'], 'a step takes either "run" or "uses", not both');
    if (step.run !== undefined && step.run.trim() === '') issue(['run'], 'must not be empty');
    if (step.run?.includes('\0')) issue(['run'], 'must not contain NUL characters');
    if (step.with === undefined) {
      if (step.uses === 'sleep') issue(['with'], 'required: sleep needs with.ms');
      return;
    }
    if (step.uses === undefined) {
      issue(['with'], '"with" is only for "uses" steps');
      return;
    }
    for (const key of Object.keys(step.with)) {
      if (step.uses === 'noop' || key !== 'ms') issue(['with', key], `unknown key "${key}" (${step.uses === 'noop' ? 'noop takes none' : 'sleep takes ms'})`);
    }
    if (step.uses === 'sleep') {
      const ms = step.with.ms;
      if (ms === undefined) issue(['with', 'ms'], 'required');
      else if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) issue(['with', 'ms'], 'must be a number of milliseconds (0 or more)');
    }
  });

const runsOn = z.union([
  z.string().regex(TARGET_NAME, { error: 'expected "local", a host name or { labels: [...] }' }),
  z.strictObject({ labels: z.array(z.string().regex(TARGET_NAME, { error: 'invalid label' })).min(1) }),
]);

const repository = z.preprocess(
  (v) => (typeof v === 'string' ? { url: v } : v),
  z.strictObject({
    url: z.string().regex(REPOSITORY_URL, { error: 'expected a git URL (https://, ssh://, git://, file://, user@host:path) or an absolute path' }),
    ref: z.string().regex(GIT_REF, { error: 'invalid git ref' }).optional(),
  }),
);

const retries = z.preprocess(
  (v) => (typeof v === 'number' ? { max: v } : v),
  z.strictObject({
    max: z.number().int().min(0).max(100).optional(),
    backoff: z.enum(['exponential', 'fixed']).optional(),
    'delay-seconds': z.number().min(0).optional(),
  }),
);

const concurrency = z.preprocess(
  (v) => (typeof v === 'string' ? { group: v } : v),
  z.strictObject({ group: nonEmpty, max: z.number().int().min(1).optional() }),
);

const steps = z.array(stepSchema).min(1, { error: 'at least one step is required' });
const jobName = z.string().regex(JOB_NAME, { error: 'invalid job name: letters, digits, ".", "_" and "-", starting with a letter or digit, at most 128' });

export const jobSpecSchema = z.strictObject({
  name: jobName,
  description: z.string().optional(),
  'runs-on': runsOn.optional(),
  inputs: inputsMap.optional(),
  env: envMap.optional(),
  on: z.strictObject({ schedule: scheduleList.optional(), webhook: z.boolean().optional() }).optional(),
  repository: repository.optional(),
  'timeout-minutes': positiveMinutes.optional(),
  retries: retries.optional(),
  concurrency: concurrency.optional(),
  // With runs-on: { labels }, how many of the matching hosts run at once (default: all).
  strategy: z.strictObject({ 'max-parallel': z.number().int().min(1).max(1000) }).optional(),
  priority: z.number().int().min(-100).max(100).optional(),
  shell: z.enum(SHELLS).optional(),
  'working-directory': nonEmpty.optional(),
  steps,
});

/** examples/seed-config.json: `host`, `username`, `ssh_key`, `os` at the top level. */
export const flatSpecSchema = z.strictObject({
  name: jobName,
  description: z.string().optional(),
  host: z.string().regex(HOST_ADDRESS, { error: 'expected a host name or IP address' }),
  username: z
    .string()
    .regex(/^(?!-)[^\u0000-\u001F\u007F]+$/, { error: 'invalid user name' })
    .optional(),
  ssh_key: nonEmpty.optional(),
  os: z.enum(['linux', 'windows']).optional(),
  repository: repository.optional(),
  inputs: inputsMap.optional(),
  schedule: scheduleList.optional(),
  timezone: timezone.optional(),
  env: envMap.optional(),
  'timeout-minutes': positiveMinutes.optional(),
  steps,
});

export type JobSpecSource = z.infer<typeof jobSpecSchema>;
export type FlatSpecSource = z.infer<typeof flatSpecSchema>;
export type StepSource = z.infer<typeof stepSchema>;
export type ScheduleSource = z.infer<typeof scheduleObject>;

/** Every key either shape knows, to suggest `timeout-minutes` for `timeout_minutes`. */
export const KNOWN_KEYS: ReadonlySet<string> = new Set([
  ...Object.keys(jobSpecSchema.shape),
  ...Object.keys(flatSpecSchema.shape),
  ...Object.keys(stepSchema.shape),
  ...Object.keys(scheduleObject.shape),
  ...Object.keys(inputDeclaration.shape),
  'labels',
  'url',
  'ref',
  'max',
  'backoff',
  'delay-seconds',
  'group',
  'webhook',
]);
