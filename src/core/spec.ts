// Job specs: YAML or JSON text (or an already parsed object from the API) in, a validated
// JobSpec out, or a SpecError that lists every problem with its path, line and column.

import { LineCounter, isAlias, parseDocument, visit, type Document } from 'yaml';
import type { ErrorDetail } from './errors.ts';
import { buildInputSpec, checkInputValue } from './inputs.ts';
import { checkSpec, type SpecOrigin } from './spec-checks.ts';
import { problemsFromZod, specError, toDetails, type SpecProblem } from './spec-issues.ts';
import { yamlPositions, type PathSegment, type SpecPositions } from './spec-positions.ts';
import {
  FLAT_MARKERS,
  KNOWN_KEYS,
  flatSpecSchema,
  jobSpecSchema,
  type FlatSpecSource,
  type JobSpecSource,
  type ScheduleSource,
  type StepSource,
} from './spec-schema.ts';
import type { InputSpec, InputValue, JobSpec, RunsOn, ScheduleSpec, StepSpec } from './types.ts';

export { parseInputAssignments, validateRunInputs } from './inputs.ts';
export type { PathSegment, Position, SpecPositions } from './spec-positions.ts';

export type SpecFormat = 'yaml' | 'json';

/**
 * Parse and validate a job spec. JSON is read by the YAML parser (JSON is YAML), so both
 * give positions; `format` only changes the wording of syntax errors.
 */
export function parseJobSpec(source: string, options: { format?: SpecFormat } = {}): JobSpec {
  const label = options.format === 'json' ? 'JSON' : 'YAML';
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Pick<ErrorDetail, 'line' | 'column'> => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    throw specError(
      doc.errors.map((e) => ({ path: '', message: `${label} syntax: ${e.message.split('\n')[0]}`, ...at(e.pos[0]) })),
      'invalid job spec',
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // An alias to an unknown anchor, or too many aliases (a "billion laughs" document).
    const alias = firstAlias(doc);
    throw specError([{ path: '', message: `${label}: ${(e as Error).message}`, ...(alias === undefined ? {} : at(alias)) }]);
  }
  return build(value, yamlPositions(doc, lineCounter, source));
}

function firstAlias(doc: Document): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_, node) {
      if (isAlias(node) && node.range) offset ??= node.range[0];
    },
  });
  return offset;
}

/** Validate an already parsed spec (an API body); `positions` adds lines and columns. */
export function normalizeJobSpec(obj: unknown, positions?: SpecPositions): JobSpec {
  return build(obj, positions);
}

function build(raw: unknown, positions: SpecPositions | undefined): JobSpec {
  const fail = (problems: SpecProblem[]): never => {
    throw specError(toDetails(problems, raw, positions));
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail([{ path: [], message: `a job spec must be a mapping (name, steps, ...), got ${raw === null || raw === undefined ? 'nothing' : Array.isArray(raw) ? 'a list' : typeof raw}` }]);
  }
  const reserved = protoKeys(raw, []);
  if (reserved.length > 0) fail(reserved);

  const obj = raw as Record<string, unknown>;
  const flat = FLAT_MARKERS.some((k) => Object.hasOwn(obj, k));
  const hint = (key: string, path: PathSegment[]): string => {
    const kebab = key.replace(/_/g, '-').replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
    if (kebab !== key && KNOWN_KEYS.has(kebab)) return `; did you mean "${kebab}"?`;
    if (flat && path.length === 0) return ` (with "host" this is the flat shape: name, host, username, ssh_key, os, repository, inputs, schedule, timezone, env, timeout-minutes, steps)`;
    return '';
  };
  const parsed = flat ? flatSpecSchema.safeParse(obj, { reportInput: true }) : jobSpecSchema.safeParse(obj, { reportInput: true });
  if (!parsed.success) fail(problemsFromZod(parsed.error.issues, hint));
  const { spec, origin } = flat ? fromFlat(parsed.data as FlatSpecSource) : fromFull(parsed.data as JobSpecSource);
  const problems = checkSpec(spec, origin);
  if (problems.length > 0) fail(problems);
  return spec;
}

// zod drops `__proto__` keys silently (they set a prototype instead); refuse them outright.
function protoKeys(value: unknown, path: PathSegment[]): SpecProblem[] {
  if (typeof value !== 'object' || value === null) return [];
  const found: SpecProblem[] = [];
  for (const key of Object.keys(value)) {
    const child = [...path, Array.isArray(value) ? Number(key) : key];
    if (key === '__proto__') found.push({ path: child, message: 'reserved key "__proto__"', target: 'key' });
    else found.push(...protoKeys((value as Record<string, unknown>)[key], child));
  }
  return found;
}

function fromFull(src: JobSpecSource): { spec: JobSpec; origin: SpecOrigin } {
  const inputs = buildInputs(src.inputs);
  const spec: JobSpec = {
    name: src.name,
    ...(src.description !== undefined && { description: src.description }),
    runsOn: runsOnFrom(src['runs-on']),
    inputs,
    env: stringValues(src.env),
    schedules: (src.on?.schedule ?? []).map((s) => scheduleFrom(s, 'UTC', inputs)),
    webhook: src.on?.webhook ?? false,
    ...(src.repository !== undefined && { repository: src.repository }),
    ...(src['timeout-minutes'] !== undefined && { timeoutMinutes: src['timeout-minutes'] }),
    retries: {
      max: src.retries?.max ?? 0,
      backoff: src.retries?.backoff ?? 'exponential',
      delaySeconds: src.retries?.['delay-seconds'] ?? 10,
    },
    ...(src.concurrency !== undefined && { concurrency: { group: src.concurrency.group, max: src.concurrency.max ?? 1 } }),
    ...(src.strategy !== undefined && { strategy: { maxParallel: src.strategy['max-parallel'] } }),
    priority: src.priority ?? 0,
    ...(src.shell !== undefined && { shell: src.shell }),
    ...(src['working-directory'] !== undefined && { workingDirectory: src['working-directory'] }),
    steps: src.steps.map(stepFrom),
  };
  return { spec, origin: originOf(src.steps, (i) => ['on', 'schedule', i]) };
}

function fromFlat(src: FlatSpecSource): { spec: JobSpec; origin: SpecOrigin } {
  const inputs = buildInputs(src.inputs);
  const spec: JobSpec = {
    name: src.name,
    ...(src.description !== undefined && { description: src.description }),
    runsOn: { kind: 'host', name: src.host },
    host: {
      address: src.host,
      ...(src.username !== undefined && { username: src.username }),
      ...(src.ssh_key !== undefined && { sshKeySecret: src.ssh_key }),
      ...(src.os !== undefined && { os: src.os }),
    },
    inputs,
    env: stringValues(src.env),
    schedules: (src.schedule ?? []).map((s) => scheduleFrom(s, src.timezone ?? 'UTC', inputs)),
    webhook: false,
    ...(src.repository !== undefined && { repository: src.repository }),
    ...(src['timeout-minutes'] !== undefined && { timeoutMinutes: src['timeout-minutes'] }),
    retries: { max: 0, backoff: 'exponential', delaySeconds: 10 },
    priority: 0,
    steps: src.steps.map(stepFrom),
  };
  // A list keeps its index; the usual single cron string is the `schedule` key itself.
  return { spec, origin: originOf(src.steps, (i) => (Array.isArray(src.schedule) ? ['schedule', i] : ['schedule'])) };
}

function originOf(steps: StepSource[], schedulePath: (i: number) => PathSegment[]): SpecOrigin {
  return {
    schedulePath,
    explicitStepIds: steps.map((s) => s.id !== undefined),
    explicitStepNames: steps.map((s) => s.name !== undefined),
  };
}

function buildInputs(src: JobSpecSource['inputs']): Record<string, InputSpec> {
  const inputs: Record<string, InputSpec> = {};
  for (const [name, declaration] of Object.entries(src ?? {})) inputs[name] = buildInputSpec(declaration).spec;
  return inputs;
}

function runsOnFrom(src: JobSpecSource['runs-on']): RunsOn {
  if (src === undefined || src === 'local') return { kind: 'local' };
  if (typeof src === 'string') return { kind: 'host', name: src };
  return { kind: 'labels', labels: src.labels };
}

function stringValues(src: Record<string, string | number | boolean> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(src ?? {})) out[key] = String(value);
  return out;
}

function scheduleFrom(src: ScheduleSource, timezone: string, inputs: Record<string, InputSpec>): ScheduleSpec {
  const values: Record<string, InputValue> = {};
  for (const [name, value] of Object.entries(src.inputs ?? {})) {
    // Typed like a run's inputs ("5" for a number input is 5); spec-checks reports misfits.
    const input = Object.hasOwn(inputs, name) ? inputs[name] : undefined;
    const checked = input ? checkInputValue(input, value) : undefined;
    values[name] = checked && 'value' in checked ? checked.value : value;
  }
  return {
    ...(src.cron !== undefined && { cron: src.cron.trim() }),
    ...(src.every !== undefined && { every: src.every }),
    timezone: src.timezone ?? timezone,
    inputs: values,
    misfire: src.misfire ?? 'skip',
    enabled: src.enabled ?? true,
  };
}

function stepFrom(src: StepSource, index: number): StepSpec {
  return {
    id: src.id ?? `step-${index + 1}`,
    name: src.name ?? defaultStepName(src),
    ...(src.run !== undefined && { run: src.run }),
    ...(src.uses !== undefined && { uses: src.uses }),
    ...(src.with !== undefined && src.uses !== undefined && { with: src.with }),
    env: stringValues(src.env),
    ...(src.if !== undefined && { if: src.if }),
    ...(src.shell !== undefined && { shell: src.shell }),
    ...(src['working-directory'] !== undefined && { workingDirectory: src['working-directory'] }),
    continueOnError: src['continue-on-error'] ?? false,
    ...(src['timeout-minutes'] !== undefined && { timeoutMinutes: src['timeout-minutes'] }),
  };
}

/** The first non-blank line of `run` (cut at 100 characters), or the built-in's name. */
function defaultStepName(src: StepSource): string {
  if (src.run === undefined) return src.uses ?? 'step';
  const line = src.run.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'run';
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}
