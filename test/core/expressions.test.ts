import { describe, expect, test } from 'vitest';
import { findExpressions, parseExpression } from '../../src/core/expression-syntax.ts';
import { evaluateCondition, ExpressionError, interpolateText, resolveFromContext, type ExprContext } from '../../src/core/expressions.ts';

const ctx: ExprContext = {
  inputs: { env: 'Prod', count: 5, dry: false, empty: '', path: 'src/app.ts' },
  secrets: { TOKEN: 's3cret' },
  env: { MODE: 'fast' },
  steps: {
    build: { outputs: { tag: 'v1.2', list: 'a,b' }, outcome: 'success', conclusion: 'success' },
    lint: { outputs: {}, outcome: 'failure', conclusion: 'success' },
  },
  run: { id: 42, attempt: 2 },
  job: { name: 'deploy' },
  trigger: { payload: { ref: 'refs/heads/main', commits: [{ id: 'abc' }], labels: ['urgent', 'bug'] } },
  status: { failed: false, cancelled: false },
};

const failed: ExprContext = { ...ctx, status: { failed: true, cancelled: false } };
const cancelled: ExprContext = { ...ctx, status: { failed: false, cancelled: true } };

describe('evaluateCondition', () => {
  test.each([
    ['true', true],
    ['false', false],
    ['${{ true }}', true],
    ['  ${{ false }}  ', false],
    ["inputs.env == 'prod'", true], // strings compare case-insensitively, as in GitHub Actions
    ["inputs.env != 'dev'", true],
    ['inputs.count == 5', true],
    ["inputs.count == '5'", true], // different types compare as numbers
    ["inputs.count == '5.0'", true],
    ['inputs.dry == false', true],
    ['inputs.dry == 0', true],
    ["inputs.empty == ''", true],
    ['inputs.empty == 0', true],
    ['inputs.nothing == null', true], // an undeclared input reads as null
    ["inputs.env == 'Prod' && inputs.count == 5", true],
    ["inputs.env == 'dev' || inputs.count == 5", true],
    ["!(inputs.env == 'dev')", true],
    ['!inputs.dry', true],
    ['!inputs.empty', true],
    ["inputs.empty || 'fallback'", true],
    ["(inputs.env == 'dev' || inputs.env == 'prod') && !inputs.dry", true],
    ["contains(inputs.path, 'APP')", true],
    ["contains(trigger.payload.labels, 'urgent')", true],
    ["contains(trigger.payload.labels, 'feature')", false],
    ["startsWith(trigger.payload.ref, 'refs/heads/')", true],
    ["endsWith(inputs.path, '.ts')", true],
    ["EndsWith(inputs.path, '.js')", false],
    ["steps.build.outputs.tag == 'v1.2'", true],
    ["steps.build.outputs.missing == ''", true],
    ["steps.lint.outcome == 'failure' && steps.lint.conclusion == 'success'", true],
    ["trigger.payload.commits.0.id == 'abc'", true],
    ["trigger.payload['ref'] == 'refs/heads/main'", true],
    ["trigger.payload.commits[0]['id'] == 'abc'", true],
    ["run.id == '42' && run.attempt == 2 && job.name == 'deploy'", true],
    ["env.MODE == 'fast'", true],
    ["secrets.TOKEN != ''", true],
    ["'it''s' == 'IT''S'", true],
    ['1.5e1 == 15', true],
    ['-1 == -1', true],
    ['null == 0', true],
    ["'abc' == 0", false], // NaN equals nothing
    ['inputs.constructor == null', true], // own properties only
    ['success()', true],
    ['failure()', false],
    ['always()', true],
    ['cancelled()', false],
  ])('%s -> %s', (expr, expected) => {
    expect(evaluateCondition(expr, ctx)).toBe(expected);
  });

  test('no condition behaves as success()', () => {
    expect(evaluateCondition(undefined, ctx)).toBe(true);
    expect(evaluateCondition('', ctx)).toBe(true);
    expect(evaluateCondition(undefined, failed)).toBe(false);
    expect(evaluateCondition(undefined, cancelled)).toBe(false);
  });

  test('after a failure only status-aware conditions run', () => {
    expect(evaluateCondition('true', failed)).toBe(false); // implicit success() && true
    expect(evaluateCondition("inputs.env == 'prod'", failed)).toBe(false);
    expect(evaluateCondition('failure()', failed)).toBe(true);
    expect(evaluateCondition('always()', failed)).toBe(true);
    expect(evaluateCondition('success()', failed)).toBe(false);
    expect(evaluateCondition("failure() && inputs.env == 'prod'", failed)).toBe(true);
    expect(evaluateCondition("failure() && inputs.env == 'dev'", failed)).toBe(false);
    expect(evaluateCondition('${{ success() || failure() }}', failed)).toBe(true);
  });

  test('on cancel', () => {
    expect(evaluateCondition('cancelled()', cancelled)).toBe(true);
    expect(evaluateCondition('always()', cancelled)).toBe(true);
    expect(evaluateCondition('success()', cancelled)).toBe(false);
    expect(evaluateCondition('failure()', cancelled)).toBe(false);
  });

  test('a context without status counts as nothing failed', () => {
    expect(evaluateCondition('success()', { inputs: {} })).toBe(true);
  });

  test.each([
    ["inputs.env == 'prod' &&", 'expected a value at the end'],
    ['inputs.count > 3', 'unsupported operator ">" (only ==, !=, &&, || and !)'],
    ["contains(inputs.env)", 'contains() takes 2 arguments, got 1'],
    ['format()', 'unknown function "format"'],
    ['github.sha', 'unknown context "github" (expected inputs, secrets, env, steps, run, job or trigger)'],
    ['inputs', '"inputs": expected inputs.<name>'],
    ['steps.build.tag', '"steps.build.tag": expected steps.<id>.outputs.<name>, steps.<id>.outcome or steps.<id>.conclusion'],
    ["'unterminated", 'unterminated string literal'],
    ['${{ true }} && ${{ false }}', 'an if: condition must be one expression; write it without ${{ }} or wrap all of it'],
    ['(true', 'expected ")" at the end'],
    ['true true', 'unexpected "true" after the expression'],
  ])('%s is refused: %s', (expr, message) => {
    expect(() => evaluateCondition(expr, ctx)).toThrow(ExpressionError);
    expect(() => evaluateCondition(expr, ctx)).toThrow(message);
  });
});

describe('interpolateText', () => {
  test('replaces each ${{ }} with its value as text', () => {
    expect(interpolateText('tv-${{ inputs.env }}-${{ inputs.count }}', ctx)).toBe('tv-Prod-5');
    expect(interpolateText('${{ inputs.dry }}/${{ inputs.nothing }}/${{ run.id }}', ctx)).toBe('false//42');
    expect(interpolateText("${{ inputs.env == 'prod' }}", ctx)).toBe('true');
    expect(interpolateText('${{ trigger.payload.labels }}', ctx)).toBe('["urgent","bug"]');
    expect(interpolateText("${{ contains('}}', '}') }}!", ctx)).toBe('true!');
    expect(interpolateText('no expressions ${ here }', ctx)).toBe('no expressions ${ here }');
  });

  test('secrets read as *** unless revealed (env values)', () => {
    expect(interpolateText('Bearer ${{ secrets.TOKEN }}', ctx)).toBe('Bearer ***');
    expect(interpolateText('Bearer ${{ secrets.TOKEN }}', ctx, { revealSecrets: true })).toBe('Bearer s3cret');
  });

  test('clear errors', () => {
    expect(() => interpolateText('${{ nope.x }}', ctx)).toThrow('unknown context "nope"');
    expect(() => interpolateText('${{ inputs.env', ctx)).toThrow('unterminated "${{": missing "}}"');
    expect(() => interpolateText('${{ success() }}', ctx)).toThrow("success() can only be used in a step's if: condition");
    expect(() => interpolateText('${{ }}', ctx)).toThrow('empty expression');
  });

  test('the values are never parsed again', () => {
    const tricky: ExprContext = { inputs: { a: '${{ secrets.TOKEN }}' }, secrets: { TOKEN: 'x' } };
    expect(interpolateText('${{ inputs.a }}', tricky, { revealSecrets: true })).toBe('${{ secrets.TOKEN }}');
  });
});

describe('syntax', () => {
  test('findExpressions skips }} inside string literals', () => {
    expect(findExpressions("a ${{ 'x}}y' }} b ${{c}}")).toEqual([
      { start: 2, end: 15, source: " 'x}}y' " },
      { start: 18, end: 24, source: 'c' },
    ]);
  });

  test('identifiers may contain dashes (input names, step ids)', () => {
    expect(parseExpression('steps.build-1.outputs.my-tag')).toEqual({ kind: 'path', root: 'steps', segments: ['build-1', 'outputs', 'my-tag'] });
  });

  test('a parsed expression is reused, and a bad one fails every time it is evaluated', () => {
    expect(parseExpression("inputs.env == 'prod'")).toBe(parseExpression("inputs.env == 'prod'"));
    for (let i = 0; i < 2; i++) expect(() => evaluateCondition('inputs.a <', ctx)).toThrow(/unsupported operator "<"/);
    // Conditions sharing a parsed tree still see each evaluation's own context.
    expect(evaluateCondition("inputs.env == 'prod'", { ...ctx, inputs: { env: 'prod' } })).toBe(true);
    expect(evaluateCondition("inputs.env == 'prod'", { ...ctx, inputs: { env: 'dev' } })).toBe(false);
  });

  test('resolveFromContext walks payload arrays and ignores prototypes', () => {
    const resolve = resolveFromContext(ctx);
    expect(resolve({ context: 'trigger', name: 'payload', path: ['commits', '0', 'id'] })).toBe('abc');
    expect(resolve({ context: 'trigger', name: 'payload', path: ['__proto__'] })).toBeUndefined();
    expect(resolve({ context: 'inputs', name: 'toString' })).toBeUndefined();
    expect(resolve({ context: 'run', name: 'id' })).toBe('42');
  });
});
