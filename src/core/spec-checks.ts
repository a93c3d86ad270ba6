// Rules that span fields of an already well-formed spec: expressions only reference what
// exists where they are evaluated, step ids are unique, generated variable names do not
// collide, schedule inputs fit the declared inputs.

import { collectPaths, ExpressionError, findExpressions, parseExpression, STATUS_FUNCTIONS, unwrapCondition, type Expr } from './expression-syntax.ts';
import { refOf, type ExprRef } from './expressions.ts';
import { checkInputValue } from './inputs.ts';
import { planStepScript } from './script.ts';
import { inputVariableName, SHELL_VARIABLE_NAME } from './script-variables.ts';
import type { SpecProblem } from './spec-issues.ts';
import type { PathSegment } from './spec-positions.ts';
import type { JobSpec } from './types.ts';

type Context = ExprRef['context'];

/** Where an expression is evaluated decides what it may read. */
interface Scope {
  contexts: ReadonlySet<Context>;
  /** Steps that have run before this point (their outputs exist). */
  earlierSteps: ReadonlySet<string>;
  /** Later steps and this one, to say "runs later" rather than "unknown". */
  laterSteps: ReadonlySet<string>;
  statusFunctions: boolean;
  where: string;
}

/** Facts about how the spec was written that the built JobSpec no longer shows. */
export interface SpecOrigin {
  /** Source path of `spec.schedules[i]`: `on.schedule[i]` or the flat `schedule`. */
  schedulePath(index: number): PathSegment[];
  explicitStepIds: readonly boolean[];
  explicitStepNames: readonly boolean[];
}

const ALL: Context[] = ['inputs', 'secrets', 'env', 'run', 'job', 'trigger', 'steps'];

export function checkSpec(spec: JobSpec, origin: SpecOrigin): SpecProblem[] {
  const problems: SpecProblem[] = [];
  checkInputNames(spec, problems);
  checkStepIds(spec, origin, problems);
  const expressions = new ExpressionChecker(spec, problems);
  const none = new Set<string>();
  const allIds = new Set(spec.steps.map((s) => s.id));

  for (const [key, value] of Object.entries(spec.env)) {
    expressions.template(value, ['env', key], scope(['inputs', 'secrets', 'run', 'job', 'trigger'], none, allIds, 'job env'));
  }
  if (spec.strategy && spec.runsOn.kind !== 'labels') {
    problems.push({ path: ['strategy'], message: 'strategy applies only with runs-on: { labels: [...] } (it limits how many matching hosts run at once)', target: 'key' });
  }
  if (spec.concurrency) {
    // Computed when the run is queued: no steps, env or secrets exist yet (and a group key is shown in the UI).
    expressions.template(spec.concurrency.group, ['concurrency', 'group'], scope(['inputs', 'job', 'trigger'], none, allIds, 'concurrency.group'));
  }
  const earlier = new Set<string>();
  for (const [i, step] of spec.steps.entries()) {
    const later = new Set(spec.steps.slice(i).map((s) => s.id));
    const full = scope(ALL, earlier, later, 'a step');
    if (origin.explicitStepNames[i]) {
      expressions.template(step.name, ['steps', i, 'name'], scope(['inputs', 'env', 'run', 'job', 'trigger', 'steps'], earlier, later, 'a step name'));
    }
    for (const [key, value] of Object.entries(step.env)) expressions.template(value, ['steps', i, 'env', key], full);
    if (step.if !== undefined) expressions.condition(step.if, ['steps', i, 'if'], { ...full, statusFunctions: true });
    if (step.run !== undefined && expressions.template(step.run, ['steps', i, 'run'], full)) {
      checkScriptPlan(spec, i, problems);
    }
    earlier.add(step.id);
  }
  checkSchedules(spec, origin, problems);
  return problems;
}

function scope(contexts: Context[], earlierSteps: ReadonlySet<string>, laterSteps: ReadonlySet<string>, where: string): Scope {
  return { contexts: new Set(contexts), earlierSteps: new Set(earlierSteps), laterSteps, statusFunctions: false, where };
}

// `ip` and `IP`, or `a-b` and `a_b`, would both be INPUT_IP / INPUT_A_B in a script.
function checkInputNames(spec: JobSpec, problems: SpecProblem[]): void {
  const owners = new Map<string, string>();
  for (const name of Object.keys(spec.inputs)) {
    const variable = inputVariableName(name);
    const other = owners.get(variable);
    if (other !== undefined) {
      problems.push({ path: ['inputs', name], target: 'key', message: `inputs "${other}" and "${name}" would both be the variable ${variable}; rename one` });
    } else owners.set(variable, name);
  }
}

function checkStepIds(spec: JobSpec, origin: SpecOrigin, problems: SpecProblem[]): void {
  const seen = new Map<string, number>();
  for (const [i, step] of spec.steps.entries()) {
    const first = seen.get(step.id);
    if (first === undefined) {
      seen.set(step.id, i);
      continue;
    }
    if (origin.explicitStepIds[i]) problems.push({ path: ['steps', i, 'id'], message: `duplicate step id "${step.id}" (steps[${first}] has it too)` });
    else problems.push({ path: ['steps', i], message: `this step's default id "${step.id}" is taken by steps[${first}]; give it an id` });
  }
}

// Quoting that cannot work and variable names that collide, for steps whose shell is known
// now; the same check runs again when the worker renders the script.
function checkScriptPlan(spec: JobSpec, index: number, problems: SpecProblem[]): void {
  const step = spec.steps[index]!;
  const envNames = new Set([...Object.keys(spec.env), ...Object.keys(step.env)]);
  try {
    planStepScript(step.run!, step.shell ?? spec.shell, envNames);
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    problems.push({ path: ['steps', index, 'run'], message: e.message, offset: e.offset });
  }
}

function checkSchedules(spec: JobSpec, origin: SpecOrigin, problems: SpecProblem[]): void {
  for (const [i, schedule] of spec.schedules.entries()) {
    const path = origin.schedulePath(i);
    for (const [name, value] of Object.entries(schedule.inputs)) {
      const input = Object.hasOwn(spec.inputs, name) ? spec.inputs[name] : undefined;
      if (input === undefined) {
        problems.push({ path: [...path, 'inputs', name], target: 'key', message: `unknown input "${name}"` });
        continue;
      }
      const checked = checkInputValue(input, value);
      if ('error' in checked) problems.push({ path: [...path, 'inputs', name], message: `value ${checked.error}` });
    }
    for (const [name, input] of Object.entries(spec.inputs)) {
      if (input.required && input.default === undefined && !Object.hasOwn(schedule.inputs, name)) {
        problems.push({ path, message: `input "${name}" is required and has no default; set it in this schedule's inputs` });
      }
    }
  }
}

class ExpressionChecker {
  constructor(
    private readonly spec: JobSpec,
    private readonly problems: SpecProblem[],
  ) {}

  /** Check every `${{ }}` in a text; false if any is wrong. */
  template(text: string, path: PathSegment[], scope: Scope): boolean {
    let occurrences;
    try {
      occurrences = findExpressions(text);
    } catch (e) {
      return this.fail(e, path, 0);
    }
    let ok = true;
    for (const occ of occurrences) ok = this.expression(occ.source, occ.start + 3, occ.start, path, scope) && ok;
    return ok;
  }

  condition(text: string, path: PathSegment[], scope: Scope): boolean {
    let unwrapped;
    try {
      unwrapped = unwrapCondition(text);
    } catch (e) {
      return this.fail(e, path, 0);
    }
    return this.expression(unwrapped.source, unwrapped.offset, unwrapped.offset, path, scope);
  }

  /** `base`: where `source` starts in the text; `at`: where to point for problems with references. */
  private expression(source: string, base: number, at: number, path: PathSegment[], scope: Scope): boolean {
    let expr: Expr;
    try {
      expr = parseExpression(source);
    } catch (e) {
      return this.fail(e, path, base);
    }
    const found: Parameters<typeof collectPaths>[1] = { paths: [], calls: [] };
    collectPaths(expr, found);
    const before = this.problems.length;
    const report = (message: string): void => {
      this.problems.push({ path, message, offset: at });
    };
    if (!scope.statusFunctions) {
      const status = found.calls.find((c) => STATUS_FUNCTIONS.has(c));
      if (status) report(`${status}() can only be used in a step's if:`);
    }
    for (const p of found.paths) {
      let ref: ExprRef;
      try {
        ref = refOf(p.root, p.segments);
      } catch (e) {
        report((e as Error).message);
        continue;
      }
      const problem = this.referenceProblem(ref, scope);
      if (problem) report(problem);
    }
    return this.problems.length === before;
  }

  private referenceProblem(ref: ExprRef, scope: Scope): string | undefined {
    if (!scope.contexts.has(ref.context)) return `${ref.context} is not available in ${scope.where}`;
    switch (ref.context) {
      case 'inputs':
        if (Object.hasOwn(this.spec.inputs, ref.name)) return undefined;
        return `unknown input "${ref.name}"${this.declared()}`;
      case 'secrets':
      case 'env':
        return SHELL_VARIABLE_NAME.test(ref.name) ? undefined : `invalid ${ref.context} name "${ref.name}" (letters, digits and _)`;
      case 'steps':
        if (scope.earlierSteps.has(ref.step)) return undefined;
        if (scope.laterSteps.has(ref.step)) return `step "${ref.step}" has not run yet here`;
        return `unknown step "${ref.step}"`;
      default:
        return undefined;
    }
  }

  private declared(): string {
    const names = Object.keys(this.spec.inputs);
    return names.length ? ` (declared: ${names.join(', ')})` : ' (this job declares no inputs)';
  }

  private fail(e: unknown, path: PathSegment[], base: number): false {
    if (!(e instanceof ExpressionError)) throw e;
    this.problems.push({ path, message: `invalid expression: ${e.message}`, offset: base + e.offset });
    return false;
  }
}
