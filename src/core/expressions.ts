// Evaluating `${{ }}` expressions: step conditions (`if:`) and plain-text interpolation
// (concurrency group keys, step names). Scripts never go through interpolateText: see
// script.ts, which turns references into shell variables instead of splicing values.
//
// Semantics follow GitHub Actions, so conditions behave the way users already expect:
// - `==`/`!=` compare strings case-insensitively; values of different types are compared
//   as numbers (null -> 0, true -> 1, '' -> 0, 'abc' -> NaN).
// - Falsy: false, 0, NaN, '', null. `&&`/`||` return an operand, not a boolean.
// - A condition that calls none of success()/failure()/always()/cancelled() is evaluated
//   as `success() && (condition)`, so a failed run skips it unless it opts in.
// - An unset context value (an optional input nobody gave, a missing output) is null.

import {
  collectPaths,
  ExpressionError,
  findExpressions,
  parseExpression,
  STATUS_FUNCTIONS,
  unwrapCondition,
  type Expr,
  type FunctionName,
} from './expression-syntax.ts';
import type { InputValue } from './types.ts';

export { ExpressionError } from './expression-syntax.ts';

export type ExprValue = string | number | boolean | null | readonly ExprValue[] | { readonly [key: string]: ExprValue };

/** A context path an expression reads; the unit that script.ts turns into a shell variable. */
export type ExprRef =
  | { context: 'inputs'; name: string }
  | { context: 'secrets'; name: string }
  | { context: 'env'; name: string }
  | { context: 'run'; name: 'id' | 'attempt' }
  | { context: 'job'; name: 'name' }
  /** `trigger.payload` (path []) or a property inside it (`trigger.payload.ref` -> ['ref']). */
  | { context: 'trigger'; name: 'payload'; path: string[] }
  | { context: 'steps'; step: string; name: 'outputs'; key: string }
  | { context: 'steps'; step: string; name: 'outcome' | 'conclusion' };

export interface RunStatusFlags {
  /** An earlier step failed and did not have `continue-on-error`. */
  failed: boolean;
  cancelled: boolean;
}

/**
 * What expressions can read. Missing parts read as null. A step's `outcome` and
 * `conclusion` are whatever words the worker records (GitHub's are success, failure,
 * cancelled, skipped; `conclusion` is success for a failure with continue-on-error).
 */
export interface ExprContext {
  inputs?: Record<string, InputValue | undefined>;
  secrets?: Record<string, string>;
  env?: Record<string, string>;
  steps?: Record<string, { outputs: Record<string, string>; outcome?: string; conclusion?: string }>;
  run?: { id: string | number; attempt: number };
  job?: { name: string };
  trigger?: { payload?: unknown };
  status?: RunStatusFlags;
}

/** Returns the value of one reference, or undefined when it has none (read as null / ''). */
export type Resolve = (ref: ExprRef) => ExprValue | undefined;

const CONTEXTS = 'inputs, secrets, env, steps, run, job or trigger';

/** The reference a context path denotes; throws ExpressionError for unknown contexts. */
export function refOf(root: string, segments: readonly string[]): ExprRef {
  const [first, ...rest] = segments;
  const shape = (expected: string): ExpressionError => new ExpressionError(`"${[root, ...segments].join('.')}": expected ${expected}`);
  switch (root) {
    case 'inputs':
    case 'secrets':
    case 'env':
      if (first === undefined || rest.length > 0) throw shape(`${root}.<name>`);
      return { context: root, name: first };
    case 'run':
      if ((first !== 'id' && first !== 'attempt') || rest.length > 0) throw shape('run.id or run.attempt');
      return { context: 'run', name: first };
    case 'job':
      if (first !== 'name' || rest.length > 0) throw shape('job.name');
      return { context: 'job', name: 'name' };
    case 'trigger':
      if (first !== 'payload') throw shape('trigger.payload');
      return { context: 'trigger', name: 'payload', path: rest };
    case 'steps': {
      const [field, key, ...extra] = rest;
      if (first !== undefined && field === 'outputs' && key !== undefined && extra.length === 0) {
        return { context: 'steps', step: first, name: 'outputs', key };
      }
      if (first !== undefined && (field === 'outcome' || field === 'conclusion') && key === undefined) {
        return { context: 'steps', step: first, name: field };
      }
      throw shape('steps.<id>.outputs.<name>, steps.<id>.outcome or steps.<id>.conclusion');
    }
    default:
      throw new ExpressionError(`unknown context "${root}" (expected ${CONTEXTS})`);
  }
}

/** `inputs.ip`, `steps.build.outputs.tag`: how a reference is written. */
export function refText(ref: ExprRef): string {
  switch (ref.context) {
    case 'trigger':
      return ['trigger', 'payload', ...ref.path].join('.');
    case 'steps':
      return ref.name === 'outputs' ? `steps.${ref.step}.outputs.${ref.key}` : `steps.${ref.step}.${ref.name}`;
    default:
      return `${ref.context}.${ref.name}`;
  }
}

function own<T>(record: Record<string, T> | undefined, key: string): T | undefined {
  // Own properties only: `inputs.constructor` must not reach Object.prototype.
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Looks references up in a context; the usual `resolve` for script.ts's renderStepScript. */
export function resolveFromContext(ctx: ExprContext): Resolve {
  return (ref) => {
    switch (ref.context) {
      case 'inputs':
        return own(ctx.inputs, ref.name);
      case 'secrets':
        return own(ctx.secrets, ref.name);
      case 'env':
        return own(ctx.env, ref.name);
      case 'run':
        return ctx.run === undefined ? undefined : ref.name === 'id' ? String(ctx.run.id) : ctx.run.attempt;
      case 'job':
        return ctx.job?.name;
      case 'trigger':
        return walk(ctx.trigger?.payload, ref.path);
      case 'steps': {
        const step = own(ctx.steps, ref.step);
        return ref.name === 'outputs' ? own(step?.outputs, ref.key) : step?.[ref.name];
      }
    }
  };
}

function walk(value: unknown, path: readonly string[]): ExprValue | undefined {
  let current = value;
  for (const key of path) {
    if (Array.isArray(current) && /^(0|[1-9]\d*)$/.test(key)) current = current[Number(key)];
    else if (current !== null && typeof current === 'object' && !Array.isArray(current)) current = own(current as Record<string, unknown>, key);
    else return undefined;
  }
  if (current === undefined || typeof current === 'function' || typeof current === 'symbol' || typeof current === 'bigint') return undefined;
  // Payloads are parsed JSON, so whatever object is left is JSON data.
  return current as ExprValue;
}

export function isTruthy(value: ExprValue): boolean {
  if (value === null || value === false || value === '') return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return true;
}

/** The text an expression's value becomes: null -> '', booleans 'true'/'false', objects as JSON. */
export function toText(value: ExprValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function toNumber(value: ExprValue): number {
  if (value === null) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const s = value.trim();
  if (s === '') return 0;
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) return Number(s);
  if (/^0x[0-9a-f]+$/i.test(s)) return Number.parseInt(s.slice(2), 16);
  return Number.NaN;
}

function kindOf(value: ExprValue): 'null' | 'boolean' | 'number' | 'string' | 'object' {
  if (value === null) return 'null';
  const t = typeof value;
  return t === 'boolean' || t === 'number' || t === 'string' ? t : 'object';
}

function looseEquals(a: ExprValue, b: ExprValue): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === kb) return ka === 'string' ? foldCase(a as string) === foldCase(b as string) : a === b;
  if (ka === 'object' || kb === 'object') return false;
  return toNumber(a) === toNumber(b);
}

function foldCase(s: string): string {
  return s.toLowerCase();
}

/**
 * Evaluate a parsed expression. Without `status`, the status functions throw: they are only
 * meaningful in a step's `if:`.
 */
export function evaluate(expr: Expr, resolve: Resolve, status?: RunStatusFlags): ExprValue {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'path':
      return resolve(refOf(expr.root, expr.segments)) ?? null;
    case 'not':
      return !isTruthy(evaluate(expr.operand, resolve, status));
    case 'binary': {
      const left = evaluate(expr.left, resolve, status);
      if (expr.op === '&&') return isTruthy(left) ? evaluate(expr.right, resolve, status) : left;
      if (expr.op === '||') return isTruthy(left) ? left : evaluate(expr.right, resolve, status);
      const equal = looseEquals(left, evaluate(expr.right, resolve, status));
      return expr.op === '==' ? equal : !equal;
    }
    case 'call':
      return call(expr.name, expr.args.map((a) => evaluate(a, resolve, status)), status);
  }
}

function call(name: FunctionName, args: ExprValue[], status: RunStatusFlags | undefined): ExprValue {
  if (STATUS_FUNCTIONS.has(name)) {
    if (status === undefined) throw new ExpressionError(`${name}() can only be used in a step's if: condition`);
    if (name === 'success') return !status.failed && !status.cancelled;
    if (name === 'failure') return status.failed;
    if (name === 'cancelled') return status.cancelled;
    return true;
  }
  const [a = null, b = null] = args;
  if (name === 'contains') {
    if (Array.isArray(a)) return a.some((item: ExprValue) => looseEquals(item, b));
    return foldCase(toText(a)).includes(foldCase(toText(b)));
  }
  if (name === 'startswith') return foldCase(toText(a)).startsWith(foldCase(toText(b)));
  return foldCase(toText(a)).endsWith(foldCase(toText(b)));
}

/** True when the expression calls success(), failure(), always() or cancelled(). */
export function usesStatusFunction(expr: Expr): boolean {
  const found: Parameters<typeof collectPaths>[1] = { paths: [], calls: [] };
  collectPaths(expr, found);
  return found.calls.some((c) => STATUS_FUNCTIONS.has(c));
}

/**
 * Whether a step runs. `condition` is the step's `if:` (bare or wrapped in `${{ }}`);
 * undefined or blank behaves as `success()`.
 */
export function evaluateCondition(condition: string | undefined, ctx: ExprContext): boolean {
  const status = ctx.status ?? { failed: false, cancelled: false };
  const succeeded = !status.failed && !status.cancelled;
  if (condition === undefined || condition.trim() === '') return succeeded;
  const { source } = unwrapCondition(condition);
  const expr = parseExpression(source);
  if (!usesStatusFunction(expr) && !succeeded) return false;
  return isTruthy(evaluate(expr, resolveFromContext(ctx), status));
}

/**
 * Replace every `${{ }}` in `template` with its value as text, for text that is not a
 * script: concurrency group keys and step names (secrets read as `***`, because that text
 * ends up in keys, names and the UI), and `env:` values, which the preamble then quotes
 * (pass `revealSecrets` there: `TOKEN: ${{ secrets.TOKEN }}` must carry the real value).
 */
export function interpolateText(template: string, ctx: ExprContext, options: { revealSecrets?: boolean } = {}): string {
  const occurrences = findExpressions(template);
  if (occurrences.length === 0) return template;
  const base = resolveFromContext(ctx);
  const resolve: Resolve = options.revealSecrets ? base : (ref) => (ref.context === 'secrets' ? '***' : base(ref));
  let out = '';
  let last = 0;
  for (const occ of occurrences) {
    out += template.slice(last, occ.start) + toText(evaluate(parseExpression(occ.source), resolve));
    last = occ.end;
  }
  return out + template.slice(last);
}
