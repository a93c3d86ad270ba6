// Job inputs: building an InputSpec from what a spec says, and checking the values a run
// is given (CLI `--input k=v`, API bodies, schedule inputs) against it.

import { InputError, type ErrorDetail } from './errors.ts';
import { describeValue } from './spec-issues.ts';
import type { PathSegment } from './spec-positions.ts';
import type { InputSpec, InputType, InputValue, JobSpec } from './types.ts';

type Scalar = string | number | boolean;

/** An input as written in a spec, after shorthand (`ip: 1.2.3.4`) became `{ default }`. */
export interface InputDeclaration {
  type?: InputType;
  description?: string;
  default?: Scalar;
  required?: boolean;
  pattern?: string;
  options?: Scalar[];
}

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The InputSpec a declaration means, and what is wrong with it (paths relative to the
 * input). The type defaults to the default value's type, or `choice` when options are given.
 */
export function buildInputSpec(raw: InputDeclaration): { spec: InputSpec; problems: { path: PathSegment[]; message: string }[] } {
  const problems: { path: PathSegment[]; message: string }[] = [];
  const type: InputType =
    raw.type ??
    (raw.options !== undefined ? 'choice' : typeof raw.default === 'number' ? 'number' : typeof raw.default === 'boolean' ? 'boolean' : 'string');
  const spec: InputSpec = { type, required: raw.required ?? false };
  if (raw.description !== undefined) spec.description = raw.description;

  if (raw.options !== undefined) {
    if (type === 'choice') spec.options = raw.options.map(String);
    else problems.push({ path: ['options'], message: `options are only for type choice (this input is ${type})` });
  } else if (type === 'choice') problems.push({ path: ['options'], message: 'required for type choice' });

  if (raw.pattern !== undefined) {
    if (type !== 'string' && type !== 'number') problems.push({ path: ['pattern'], message: `a pattern only applies to string and number inputs (this input is ${type})` });
    else {
      try {
        new RegExp(raw.pattern);
        spec.pattern = raw.pattern;
      } catch (e) {
        problems.push({ path: ['pattern'], message: `not a valid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}` });
      }
    }
  }

  if (raw.default !== undefined) {
    const checked = checkInputValue(spec, raw.default);
    if ('error' in checked) problems.push({ path: ['default'], message: `default ${checked.error}` });
    else spec.default = checked.value;
  }
  return { spec, problems };
}

/**
 * A value for an input, typed. Strings are accepted for numbers ("5") and booleans
 * ("true"/"false", any case) because the CLI and query strings only have strings.
 * Errors read after the word "value" or "default": `"abc" is not a number`.
 */
export function checkInputValue(spec: InputSpec, value: unknown): { value: InputValue } | { error: string } {
  let typed: InputValue;
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') return { error: `must be a string, got ${describeValue(value)}` };
      typed = value;
      break;
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) typed = value;
      else if (typeof value === 'string' && NUMBER_TEXT.test(value.trim())) typed = Number(value.trim());
      else return { error: `must be a number, got ${describeValue(value)}` };
      break;
    case 'boolean':
      if (typeof value === 'boolean') typed = value;
      else if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) typed = value.trim().toLowerCase() === 'true';
      else return { error: `must be true or false, got ${describeValue(value)}` };
      break;
    case 'choice':
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        return { error: `must be one of ${(spec.options ?? []).join(', ')}, got ${describeValue(value)}` };
      }
      typed = String(value);
      if (!(spec.options ?? []).includes(typed)) return { error: `${describeValue(typed)} is not one of ${(spec.options ?? []).join(', ')}` };
      break;
  }
  // No shell can receive a NUL, and it would cut C strings short along the way.
  if (typeof typed === 'string' && typed.includes('\0')) return { error: 'must not contain NUL characters' };
  if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(String(typed))) {
    return { error: `${describeValue(String(typed))} does not match the pattern ${spec.pattern}` };
  }
  return { value: typed };
}

/**
 * The inputs a run gets: the job's defaults overridden by `overrides`. Throws InputError
 * (details at `inputs.<name>`) for unknown inputs, missing required ones (an empty string
 * does not count), wrong types, pattern mismatches and choices not offered. A null
 * override means "not given". Optional inputs with neither value are left out.
 */
export function validateRunInputs(spec: Pick<JobSpec, 'inputs'>, overrides: Record<string, unknown>): Record<string, InputValue> {
  const details: ErrorDetail[] = [];
  const declared = Object.keys(spec.inputs);
  for (const name of Object.keys(overrides ?? {})) {
    if (!Object.hasOwn(spec.inputs, name)) {
      details.push({ path: `inputs.${name}`, message: `unknown input${declared.length ? ` (this job has ${declared.join(', ')})` : ' (this job has none)'}` });
    }
  }
  const values: Record<string, InputValue> = {};
  for (const [name, input] of Object.entries(spec.inputs)) {
    const given = Object.hasOwn(overrides ?? {}, name) ? overrides[name] : undefined;
    const value = given === undefined || given === null ? input.default : given;
    if (value === undefined) {
      if (input.required) details.push({ path: `inputs.${name}`, message: 'required' });
      continue;
    }
    const checked = checkInputValue(input, value);
    if ('error' in checked) details.push({ path: `inputs.${name}`, message: `value ${checked.error}` });
    else if (input.required && checked.value === '') details.push({ path: `inputs.${name}`, message: 'required (an empty value was given)' });
    else values[name] = checked.value;
  }
  if (details.length > 0) {
    const [first] = details;
    throw new InputError(`invalid inputs: ${first!.path}: ${first!.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`, details);
  }
  return values;
}

/**
 * `--input name=value` arguments as a map (split at the first `=`, so values may contain
 * `=`). The map has no prototype: a name like `__proto__` stays an ordinary key that
 * validateRunInputs then reports as unknown.
 */
export function parseInputAssignments(list: readonly string[]): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  const details: ErrorDetail[] = [];
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq < 0) details.push({ path: 'inputs', message: `expected name=value, got ${describeValue(item)}` });
    else if (eq === 0) details.push({ path: 'inputs', message: `missing the input name before "=" in ${describeValue(item)}` });
    else {
      const name = item.slice(0, eq);
      if (Object.hasOwn(out, name)) details.push({ path: `inputs.${name}`, message: 'given more than once' });
      else out[name] = item.slice(eq + 1);
    }
  }
  if (details.length > 0) {
    throw new InputError(`invalid --input: ${details[0]!.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`, details);
  }
  return out;
}
