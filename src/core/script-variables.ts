// The shell variable each `${{ }}` reference inside `run:` becomes. Other layers rely on
// these exact names (documented for users too), so change them only with a changelog entry:
//
//   inputs.<name>              INPUT_<NAME>
//   secrets.<name>             SECRET_<NAME>
//   env.<NAME>                 <NAME> itself (the job/step env var)
//   run.id / run.attempt       HOSTRUN_RUN_ID / HOSTRUN_RUN_ATTEMPT
//   job.name                   HOSTRUN_JOB_NAME
//   trigger.payload            HOSTRUN_TRIGGER_PAYLOAD (JSON text)
//   steps.<id>.outputs.<key>   STEP_<ID>_OUTPUT_<KEY>
//   steps.<id>.outcome         STEP_<ID>_OUTCOME (and .conclusion: STEP_<ID>_CONCLUSION)
//   anything else              HOSTRUN_EXPR_<n> (1-based, in order of appearance)
//
// <NAME> is upper-cased with every character other than A-Z and 0-9 replaced by `_`.

import { ExpressionError } from './expression-syntax.ts';
import type { ExprRef } from './expressions.ts';

/** A name every shell we support accepts for an environment variable. */
export const SHELL_VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function upper(part: string): string {
  return part.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export function inputVariableName(input: string): string {
  return `INPUT_${upper(input)}`;
}

/**
 * The variable a reference becomes, or undefined when it has none of its own (a property
 * inside `trigger.payload`): then it is passed as HOSTRUN_EXPR_<n> like any expression.
 */
export function variableNameFor(ref: ExprRef): string | undefined {
  switch (ref.context) {
    case 'inputs':
      return inputVariableName(ref.name);
    case 'secrets':
      return `SECRET_${upper(ref.name)}`;
    case 'env':
      if (!SHELL_VARIABLE_NAME.test(ref.name)) {
        throw new ExpressionError(`env.${ref.name}: not a valid environment variable name (letters, digits and _)`);
      }
      return ref.name;
    case 'run':
      return ref.name === 'id' ? 'HOSTRUN_RUN_ID' : 'HOSTRUN_RUN_ATTEMPT';
    case 'job':
      return 'HOSTRUN_JOB_NAME';
    case 'trigger':
      return ref.path.length === 0 ? 'HOSTRUN_TRIGGER_PAYLOAD' : undefined;
    case 'steps':
      return ref.name === 'outputs' ? `STEP_${upper(ref.step)}_OUTPUT_${upper(ref.key)}` : `STEP_${upper(ref.step)}_${upper(ref.name)}`;
  }
}

export function expressionVariableName(n: number): string {
  return `HOSTRUN_EXPR_${n}`;
}
