// Injection-safe scripts. A `${{ }}` inside `run:` never splices its value into the
// script: it becomes a reference to a shell variable (names in script-variables.ts), and
// the value is defined in a preamble with the target shell's own quoting. The script text
// is then the same whatever the values are, so no value can change how it parses.
//
// How a reference is written depends on where it stands in the user's script:
//
//   bash/sh       unquoted "${INPUT_X}"   in "..." ${INPUT_X}   in '...' '"${INPUT_X}"'
//                 in $'...' '"${INPUT_X}"$'   in <<EOF bodies ${INPUT_X}
//                 refused: $(( )), <<'EOF' bodies, right after \ or $
//   pwsh          unquoted and in "..."/@"..."@: ${env:INPUT_X} (braced, so text right
//                 after it cannot extend the name); refused: '...' and @'...'@ (nothing
//                 expands there, and closing the quote would change the argument's meaning)
//   cmd           !INPUT_X! everywhere (delayed expansion: the runner starts cmd /V:ON,
//                 and delayed expansion happens after cmd has parsed & | < > and quotes)

import { ExpressionError, findExpressions, parseExpression, type Expr, type Occurrence } from './expression-syntax.ts';
import {
  evaluate,
  refOf,
  refText,
  resolveFromContext,
  toText,
  usesStatusFunction,
  type ExprContext,
  type ExprRef,
  type Resolve,
} from './expressions.ts';
import { posixContexts } from './posix-lexer.ts';
import { powerShellContexts } from './powershell-lexer.ts';
import { renderPreamble } from './script-preamble.ts';
import { expressionVariableName, variableNameFor } from './script-variables.ts';
import type { Shell } from './types.ts';

export { renderPreamble, shellCommand } from './script-preamble.ts';

/** Set by the worker and safe to reference whether or not a spec declared them. */
const RUNTIME_VARIABLES = new Set(['HOSTRUN_RUN_ID', 'HOSTRUN_RUN_ATTEMPT', 'HOSTRUN_JOB_NAME', 'HOSTRUN_TRIGGER_PAYLOAD']);

/** One `${{ }}` of a `run:` and what it turns into. */
export interface ScriptReference {
  start: number;
  end: number;
  expr: Expr;
  /** The context path, when the expression is exactly one. */
  ref?: ExprRef;
  variable: string;
  /** The text that replaces `${{ ... }}`; empty when planned without a shell. */
  replacement: string;
}

export interface RenderedScript {
  /** The user's script with references in place of `${{ }}`; goes after the preamble. */
  script: string;
  /** Values for the references: shell-local in bash/sh (never exported, see preamble). */
  variables: Record<string, string>;
  /** The `extraEnv` given, exported by the preamble. */
  exported: Record<string, string>;
}

/**
 * Work out every reference in `run` without values: which variable each becomes and how
 * it is written for `shell` (skip the quoting part with shell undefined). `exportedNames`
 * are the job/step env names, which generated names must not collide with. Throws
 * ExpressionError with `offset` into `run`.
 */
export function planStepScript(run: string, shell: Shell | undefined, exportedNames: ReadonlySet<string> = new Set()): ScriptReference[] {
  const occurrences = findExpressions(run);
  if (occurrences.length === 0) return [];
  const contexts = quotingOf(run, shell, occurrences);
  const owners = new Map<string, string>();
  let expressions = 0;
  return occurrences.map((occ) => {
    const fail = (message: string, code: 'invalid_spec' | 'unsupported' = 'invalid_spec'): never => {
      throw new ExpressionError(message, occ.start, code);
    };
    let expr: Expr;
    try {
      expr = parseExpression(occ.source);
    } catch (e) {
      if (e instanceof ExpressionError) throw new ExpressionError(e.message, occ.start + 3 + e.offset);
      throw e;
    }
    if (usesStatusFunction(expr)) fail('success(), failure(), always() and cancelled() can only be used in if:');
    let ref: ExprRef | undefined;
    let variable: string | undefined;
    try {
      if (expr.kind === 'path') {
        ref = refOf(expr.root, expr.segments);
        variable = variableNameFor(ref);
      }
    } catch (e) {
      if (e instanceof ExpressionError) fail(e.message);
      throw e;
    }
    if (variable === undefined || ref === undefined) variable = expressionVariableName(++expressions);
    else {
      const owner = owners.get(variable);
      const text = refText(ref);
      if (owner !== undefined && owner !== text) fail(`${owner} and ${text} would both become the shell variable ${variable}`);
      owners.set(variable, text);
      if (ref.context !== 'env' && !RUNTIME_VARIABLES.has(variable) && exportedNames.has(variable)) {
        fail(`${text} becomes the shell variable ${variable}, which env: already defines; rename that env variable`);
      }
    }
    const replacement = shell === undefined ? '' : referenceFor(shell, variable, contexts?.get(occ.start), run, occ, fail);
    return { start: occ.start, end: occ.end, expr, ref, variable, replacement };
  });
}

function quotingOf(run: string, shell: Shell | undefined, occurrences: readonly Occurrence[]): Map<number, string> | undefined {
  const starts = new Set(occurrences.map((o) => o.start));
  if (shell === 'bash' || shell === 'sh') return posixContexts(mask(run, occurrences), starts, shell);
  if (shell === 'pwsh' || shell === 'powershell') return powerShellContexts(mask(run, occurrences), starts);
  return undefined;
}

// The lexers see each `${{ ... }}` as a run of one private-use character: part of a word,
// special to no shell, and never equal to a here-document delimiter.
function mask(run: string, occurrences: readonly Occurrence[]): string {
  let out = '';
  let last = 0;
  for (const occ of occurrences) {
    out += run.slice(last, occ.start) + '\uE000'.repeat(occ.end - occ.start);
    last = occ.end;
  }
  return out + run.slice(last);
}

function referenceFor(
  shell: Shell,
  name: string,
  context: string | undefined,
  run: string,
  occ: Occurrence,
  fail: (message: string, code?: 'invalid_spec' | 'unsupported') => never,
): string {
  const shown = run.slice(occ.start, occ.end);
  const before = run[occ.start - 1];
  if (shell === 'cmd') {
    if (before === '^' || before === '!' || before === '%') fail(`"${before}" right before ${shown} is not supported in cmd`, 'unsupported');
    return `!${name}!`;
  }
  if (context === 'escaped') fail(`${shown} right after an escape character is not supported`, 'unsupported');
  if (before === '$' && (context === 'unquoted' || context === 'double' || context === 'heredoc')) {
    fail(`"$" right before ${shown} is ambiguous; remove the "$"`, 'unsupported');
  }
  if (shell === 'pwsh' || shell === 'powershell') {
    if (context === 'unquoted' || context === 'double' || context === 'comment') return `\${env:${name}}`;
    if (context === 'single') {
      fail(`${shown} inside a single-quoted PowerShell string cannot expand; use double quotes ("...") or none`, 'unsupported');
    }
    return fail(`${shown} is not supported here (inside \${...} or an unfinished construct)`, 'unsupported');
  }
  switch (context) {
    case 'unquoted':
      return `"\${${name}}"`;
    case 'double':
    case 'heredoc':
    case 'comment':
      return `\${${name}}`;
    case 'single':
      return `'"\${${name}}"'`;
    case 'ansi':
      return `'"\${${name}}"$'`;
    case 'quoted-heredoc':
      return fail(`${shown} inside a quoted here-document (<<'EOF') never expands; remove the quotes around the delimiter`, 'unsupported');
    case 'arithmetic':
      return fail(
        `${shown} inside $(( )) or (( )) is not supported: bash evaluates a variable's text as code there; assign it to a variable and check it first`,
        'unsupported',
      );
    default:
      return fail(`${shown} is not supported here (inside a here-document delimiter or an unfinished construct)`, 'unsupported');
  }
}

/**
 * Rewrite a step's `run:` for `shell`: every `${{ }}` becomes a variable reference and its
 * value goes into `variables`. A context path's value comes from `resolve` (or from an
 * ExprContext; undefined -> ''); any other expression is evaluated (through `resolve`) and
 * passed as HOSTRUN_EXPR_<n>. `env.X` references read the env var X itself: put the job and
 * step `env:` (already interpolated) and the HOSTRUN_* runtime variables in `extraEnv`, or
 * pass them to renderPreamble as `exported`.
 */
export function renderStepScript(
  run: string,
  shell: Shell,
  values: Resolve | ExprContext,
  extraEnv: Record<string, string> = {},
): RenderedScript {
  const resolve = typeof values === 'function' ? values : resolveFromContext(values);
  const references = planStepScript(run, shell, new Set(Object.keys(extraEnv)));
  const variables: Record<string, string> = {};
  let script = '';
  let last = 0;
  for (const r of references) {
    script += run.slice(last, r.start) + r.replacement;
    last = r.end;
    if (r.ref?.context === 'env' || Object.hasOwn(extraEnv, r.variable) || Object.hasOwn(variables, r.variable)) continue;
    variables[r.variable] = toText(r.ref ? resolve(r.ref) : evaluate(r.expr, resolve));
  }
  script += run.slice(last);
  return { script, variables, exported: { ...extraEnv } };
}

/** The whole text for the shell's stdin: preamble, then the step's script. */
export function assembleScript(shell: Shell, rendered: RenderedScript): string {
  const body = rendered.script.endsWith('\n') ? rendered.script : `${rendered.script}${shell === 'cmd' ? '\r\n' : '\n'}`;
  // bash and sh read a script from stdin as they go, so a command in it that reads stdin
  // (cat, read, ssh) would swallow the rest of the script. Inside one brace group the shell
  // parses the whole script before running any of it: such a command then sees end of input,
  // and a syntax error anywhere runs nothing at all.
  const wrapped = shell === 'bash' || shell === 'sh' ? `{\n${body}}\n` : body;
  return renderPreamble(shell, rendered.variables, rendered.exported) + wrapped;
}
