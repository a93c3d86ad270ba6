// Turning validation problems (zod issues and our own checks) into ErrorDetails with
// `steps[1].run`-style paths and source positions, and into one SpecError.

import type { z } from 'zod';
import { SpecError, formatDetails, type ErrorDetail } from './errors.ts';
import type { PathSegment, SpecPositions } from './spec-positions.ts';

/** One problem found in a spec. `offset` points into the string value at `path`. */
export interface SpecProblem {
  path: PathSegment[];
  message: string;
  target?: 'node' | 'key';
  offset?: number;
}

/** `steps[1].run`, `inputs.ip.pattern`, `env["odd key"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

/**
 * Cut a path where it descends into a scalar of the original input: a shorthand such as
 * `schedule: "0 * * *"` is validated as `schedule[0].cron`, but the user wrote `schedule`.
 * A key missing from a mapping keeps its name (`steps[1].run: required`).
 */
function asWritten(raw: unknown, path: readonly PathSegment[]): PathSegment[] {
  let current = raw;
  for (const [i, segment] of path.entries()) {
    if (!isContainer(current)) return path.slice(0, i);
    if (!Object.hasOwn(current, segment)) return [...path];
    current = (current as Record<string, unknown>)[segment];
  }
  return [...path];
}

export function toDetails(problems: readonly SpecProblem[], raw: unknown, positions?: SpecPositions): ErrorDetail[] {
  const details = problems.map((p): ErrorDetail => {
    const path = asWritten(raw, p.path);
    const cut = path.length < p.path.length;
    const position = !positions
      ? undefined
      : p.offset !== undefined
        ? positions.inString(path, p.offset)
        : p.target === 'key' && !cut
          ? positions.key(path)
          : positions.node(path);
    return { path: formatPath(path), message: p.message, ...(position ? { line: position.line, column: position.column } : {}) };
  });
  // Report in source order, so the summary names the first problem in the file.
  return details
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (a.d.line ?? Infinity) - (b.d.line ?? Infinity) || (a.d.column ?? 0) - (b.d.column ?? 0) || a.i - b.i)
    .map(({ d }) => d);
}

export function specError(details: ErrorDetail[], prefix = 'invalid job spec'): SpecError {
  const first = details[0];
  const summary = first ? formatDetails([first]) : 'unknown problem';
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return new SpecError(`${prefix}: ${summary}${more}`, details);
}

const NOUNS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

type Issue = z.core.$ZodIssue;

/** zod issues as problems, with our wording. `hintFor` may add a hint to an unknown key. */
export function problemsFromZod(issues: readonly Issue[], hintFor: (key: string, path: PathSegment[]) => string = () => ''): SpecProblem[] {
  const out: SpecProblem[] = [];
  const visit = (issue: Issue, prefix: PathSegment[]): void => {
    const path = [...prefix, ...issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s))];
    const input = (issue as { input?: unknown }).input;
    switch (issue.code) {
      case 'invalid_union': {
        // A shorthand or a mapping: report the branch that got furthest, not "invalid input".
        const deep = issue.errors.filter((branch) => !branch.every((i) => i.path.length === 0 && i.code === 'invalid_type'));
        const best = deep.sort((a, b) => a.length - b.length)[0];
        if (best) {
          for (const inner of best) visit(inner, path);
          return;
        }
        if (input === undefined) {
          out.push({ path, message: 'required' });
          return;
        }
        const expected = issue.errors.flatMap((b) => b.map((i) => (i.code === 'invalid_type' ? (NOUNS[i.expected] ?? i.expected) : null)));
        const nouns = [...new Set(expected.filter((e): e is string => e !== null))];
        out.push({ path, message: `expected ${nouns.join(' or ')}, got ${describeValue(input)}` });
        return;
      }
      case 'invalid_type':
        out.push({
          path,
          message: input === undefined ? 'required' : `expected ${NOUNS[issue.expected] ?? issue.expected}, got ${describeValue(input)}`,
        });
        return;
      case 'unrecognized_keys':
        for (const key of issue.keys) out.push({ path: [...path, key], message: `unknown key "${key}"${hintFor(key, path)}`, target: 'key' });
        return;
      case 'invalid_key':
        out.push({ path, message: issue.issues[0]?.message ?? 'invalid key', target: 'key' });
        return;
      case 'invalid_value':
        out.push({
          path,
          message:
            input === undefined
              ? 'required'
              : `expected ${issue.values.map((v) => JSON.stringify(v)).join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${describeValue(input)}`,
        });
        return;
      case 'too_small':
        out.push({ path, message: issue.message.startsWith('Too small') ? tooSmall(issue) : issue.message });
        return;
      case 'too_big':
        out.push({
          path,
          message: issue.message.startsWith('Too big') ? `must be at most ${String(issue.maximum)}${issue.origin === 'array' ? ' items' : ''}` : issue.message,
        });
        return;
      default:
        out.push({ path, message: issue.message });
    }
  };
  for (const issue of issues) visit(issue, []);
  return out;
}

function tooSmall(issue: Extract<Issue, { code: 'too_small' }>): string {
  const min = Number(issue.minimum);
  if (issue.origin === 'string') return min === 1 ? 'must not be empty' : `must be at least ${min} characters`;
  if (issue.origin === 'array') return min === 1 ? 'must not be empty' : `must have at least ${min} items`;
  return issue.inclusive ? `must be at least ${min}` : `must be greater than ${min}`;
}
