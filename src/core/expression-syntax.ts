// The `${{ }}` expression language: finding occurrences in text and parsing one into an AST.
// Deliberately small (GitHub Actions' subset that job specs need): literals, context paths,
// `== != && || !`, parentheses and a few functions. No arithmetic and no `format()`, so an
// expression can never build new expression text at run time.

import { HostrunError } from './errors.ts';

export type Literal = string | number | boolean | null;

export type Expr =
  | { kind: 'literal'; value: Literal }
  | { kind: 'path'; root: string; segments: string[] }
  | { kind: 'not'; operand: Expr }
  | { kind: 'binary'; op: '==' | '!=' | '&&' | '||'; left: Expr; right: Expr }
  | { kind: 'call'; name: FunctionName; args: Expr[] };

export type FunctionName = 'success' | 'failure' | 'always' | 'cancelled' | 'contains' | 'startswith' | 'endswith';

/** Functions that read the run's status; they only make sense in a step's `if:`. */
export const STATUS_FUNCTIONS: ReadonlySet<FunctionName> = new Set(['success', 'failure', 'always', 'cancelled']);

const ARITY: Record<FunctionName, number> = {
  success: 0,
  failure: 0,
  always: 0,
  cancelled: 0,
  contains: 2,
  startswith: 2,
  endswith: 2,
};

/**
 * A malformed expression, or one used where it cannot work (code `unsupported`, e.g. inside
 * a single-quoted PowerShell string). `offset` points into the text that was being read.
 */
export class ExpressionError extends HostrunError {
  readonly offset: number;

  constructor(message: string, offset = 0, code: 'invalid_spec' | 'unsupported' = 'invalid_spec') {
    super(code, message);
    this.name = 'ExpressionError';
    this.offset = offset;
  }
}

/** One `${{ ... }}` in a template: `start`/`end` span the whole marker, `source` the inside. */
export interface Occurrence {
  start: number;
  end: number;
  source: string;
}

/**
 * Every `${{ ... }}` in `text`, in order. The closing `}}` is searched outside string
 * literals, so `${{ contains(x, '}}') }}` is one expression.
 */
export function findExpressions(text: string): Occurrence[] {
  const found: Occurrence[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('${{', from);
    if (start < 0) return found;
    let i = start + 3;
    let end = -1;
    while (i < text.length) {
      const c = text[i];
      if (c === "'") {
        i = skipString(text, i);
        if (i < 0) break;
        continue;
      }
      if (c === '}' && text[i + 1] === '}') {
        end = i + 2;
        break;
      }
      i += 1;
    }
    if (end < 0) throw new ExpressionError('unterminated "${{": missing "}}"', start);
    found.push({ start, end, source: text.slice(start + 3, end - 2) });
    from = end;
  }
}

/** Index just past the string literal opening at `quote` (`''` escapes a quote), or -1. */
function skipString(text: string, quote: number): number {
  let i = quote + 1;
  while (i < text.length) {
    if (text[i] === "'") {
      if (text[i + 1] === "'") i += 2;
      else return i + 1;
    } else i += 1;
  }
  return -1;
}

type Token =
  | { type: 'punct'; value: string; at: number }
  | { type: 'string'; value: string; at: number }
  | { type: 'number'; value: number; at: number }
  | { type: 'ident'; value: string; at: number }
  | { type: 'end'; at: number };

const PUNCT = ['==', '!=', '&&', '||', '!', '(', ')', ',', '.', '[', ']'];
const IDENT = /[A-Za-z_][A-Za-z0-9_-]*/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const PROPERTY = /[A-Za-z0-9_][A-Za-z0-9_-]*/y;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i += 1;
      continue;
    }
    if (c === "'") {
      const end = skipString(src, i);
      if (end < 0) throw new ExpressionError('unterminated string literal', i);
      tokens.push({ type: 'string', value: src.slice(i + 1, end - 1).replaceAll("''", "'"), at: i });
      i = end;
      continue;
    }
    // After a ".", a property name: `trigger.payload.commits.0.id` indexes with digits too.
    const previous = tokens.at(-1);
    if (previous?.type === 'punct' && previous.value === '.') {
      PROPERTY.lastIndex = i;
      const prop = PROPERTY.exec(src);
      if (prop) {
        tokens.push({ type: 'ident', value: prop[0], at: i });
        i += prop[0].length;
        continue;
      }
    }
    NUMBER.lastIndex = i;
    const num = c === '-' || (c >= '0' && c <= '9') ? NUMBER.exec(src) : null;
    if (num && (c !== '-' || num[0].length > 1)) {
      tokens.push({ type: 'number', value: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    IDENT.lastIndex = i;
    const ident = IDENT.exec(src);
    if (ident) {
      tokens.push({ type: 'ident', value: ident[0], at: i });
      i += ident[0].length;
      continue;
    }
    const punct = PUNCT.find((p) => src.startsWith(p, i));
    if (punct) {
      tokens.push({ type: 'punct', value: punct, at: i });
      i += punct.length;
      continue;
    }
    if ('<>'.includes(c)) throw new ExpressionError(`unsupported operator "${c}" (only ==, !=, &&, || and !)`, i);
    throw new ExpressionError(`unexpected character "${c}"`, i);
  }
  tokens.push({ type: 'end', at: src.length });
  return tokens;
}

// Parsed expressions by source text. A worker evaluates the same few conditions (every step's
// `if:`, `success()` by default) for every run; parsing them each time was ~7 % of a busy
// worker's CPU. Parsed trees are never changed after parsing, so one tree serves every caller.
// Bounded in entries (cleared when full, since the distinct sources in use are few) and in
// size: the server parses what users submit too, and a long source is parsed afresh each time.
const parsed = new Map<string, Expr>();
const PARSED_MAX = 2000;
const PARSED_MAX_SOURCE = 500;

/** Parse the inside of one `${{ }}` (or a bare `if:` condition). Throws ExpressionError. */
export function parseExpression(src: string): Expr {
  if (src.length > PARSED_MAX_SOURCE) return parseUncached(src);
  let expr = parsed.get(src);
  if (expr === undefined) {
    expr = parseUncached(src);
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(src, expr);
  }
  return expr;
}

function parseUncached(src: string): Expr {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const isPunct = (value: string): boolean => {
    const t = peek();
    return t.type === 'punct' && t.value === value;
  };
  const expect = (value: string): void => {
    const t = next();
    if (t.type !== 'punct' || t.value !== value) throw new ExpressionError(`expected "${value}"${describe(t)}`, t.at);
  };

  // Precedence, loosest first, as in GitHub Actions: ||, &&, == !=, !, primary.
  const parseOr = (): Expr => {
    let left = parseAnd();
    while (isPunct('||')) {
      next();
      left = { kind: 'binary', op: '||', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Expr => {
    let left = parseEquality();
    while (isPunct('&&')) {
      next();
      left = { kind: 'binary', op: '&&', left, right: parseEquality() };
    }
    return left;
  };
  const parseEquality = (): Expr => {
    let left = parseUnary();
    while (isPunct('==') || isPunct('!=')) {
      const op = (next() as { value: '==' | '!=' }).value;
      left = { kind: 'binary', op, left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): Expr => {
    if (isPunct('!')) {
      next();
      return { kind: 'not', operand: parseUnary() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): Expr => {
    const t = next();
    if (t.type === 'string' || t.type === 'number') return { kind: 'literal', value: t.value };
    if (t.type === 'punct' && t.value === '(') {
      const inner = parseOr();
      expect(')');
      return inner;
    }
    if (t.type !== 'ident') throw new ExpressionError(`expected a value${describe(t)}`, t.at);
    if (t.value === 'true' || t.value === 'false') return { kind: 'literal', value: t.value === 'true' };
    if (t.value === 'null') return { kind: 'literal', value: null };
    if (isPunct('(')) return parseCall(t);
    const segments: string[] = [];
    for (;;) {
      if (isPunct('.')) {
        next();
        const prop = next();
        if (prop.type !== 'ident') throw new ExpressionError(`expected a property name after "."${describe(prop)}`, prop.at);
        segments.push(prop.value);
      } else if (isPunct('[')) {
        next();
        const key = next();
        if (key.type === 'string') segments.push(key.value);
        else if (key.type === 'number' && Number.isInteger(key.value) && key.value >= 0) segments.push(String(key.value));
        else throw new ExpressionError(`expected a quoted key or an index inside [ ]${describe(key)}`, key.at);
        expect(']');
      } else break;
    }
    return { kind: 'path', root: t.value, segments };
  };
  const parseCall = (t: { value: string; at: number }): Expr => {
    const name = t.value.toLowerCase();
    if (!(name in ARITY)) throw new ExpressionError(`unknown function "${t.value}"`, t.at);
    expect('(');
    const args: Expr[] = [];
    if (!isPunct(')')) {
      args.push(parseOr());
      while (isPunct(',')) {
        next();
        args.push(parseOr());
      }
    }
    expect(')');
    const fn = name as FunctionName;
    if (args.length !== ARITY[fn]) {
      throw new ExpressionError(`${t.value}() takes ${ARITY[fn]} argument${ARITY[fn] === 1 ? '' : 's'}, got ${args.length}`, t.at);
    }
    return { kind: 'call', name: fn, args };
  };

  if (peek().type === 'end') throw new ExpressionError('empty expression', 0);
  const expr = parseOr();
  const rest = peek();
  if (rest.type !== 'end') throw new ExpressionError(`unexpected${describe(rest)} after the expression`, rest.at);
  return expr;
}

function describe(t: Token): string {
  if (t.type === 'end') return ' at the end';
  if (t.type === 'string') return ` '${t.value}'`;
  return ` "${String(t.value)}"`;
}

/** Every context path in an expression, with the functions it calls. */
export function collectPaths(expr: Expr, into: { paths: Extract<Expr, { kind: 'path' }>[]; calls: FunctionName[] }): void {
  switch (expr.kind) {
    case 'literal':
      return;
    case 'path':
      into.paths.push(expr);
      return;
    case 'not':
      collectPaths(expr.operand, into);
      return;
    case 'binary':
      collectPaths(expr.left, into);
      collectPaths(expr.right, into);
      return;
    case 'call':
      into.calls.push(expr.name);
      for (const arg of expr.args) collectPaths(arg, into);
  }
}

/**
 * An `if:` may be written bare (`inputs.x == 'a'`) or wrapped (`${{ inputs.x == 'a' }}`).
 * Returns the bare expression and where it starts in `condition`.
 */
export function unwrapCondition(condition: string): { source: string; offset: number } {
  const occurrences = findExpressions(condition);
  if (occurrences.length === 0) return { source: condition, offset: 0 };
  const only = occurrences[0]!;
  if (occurrences.length > 1 || condition.slice(0, only.start).trim() !== '' || condition.slice(only.end).trim() !== '') {
    throw new ExpressionError('an if: condition must be one expression; write it without ${{ }} or wrap all of it', only.start);
  }
  return { source: only.source, offset: only.start + 3 };
}
