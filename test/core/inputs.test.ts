import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { parseInputAssignments, parseJobSpec, validateRunInputs } from '../../src/core/spec.ts';

const spec = parseJobSpec(`
name: inputs
inputs:
  ip: { default: 192.168.1.84, pattern: '^[0-9.]+$' }
  count: 3
  ratio: { type: number }
  dry-run: false
  env: { options: [dev, prod], default: dev }
  level: { type: choice, options: [1, 2, 3] }
  who: { required: true }
  note:
steps: [{ run: "true" }]
`);

function inputErrorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('validateRunInputs', () => {
  test('defaults fill in; optional inputs without a value are left out', () => {
    expect(validateRunInputs(spec, { who: 'me' })).toEqual({ ip: '192.168.1.84', count: 3, 'dry-run': false, env: 'dev', who: 'me' });
  });

  test('overrides win and come back typed', () => {
    expect(
      validateRunInputs(spec, { who: 'me', ip: '10.0.0.1', count: '5', ratio: ' -0.25 ', 'dry-run': 'TRUE', env: 'prod', level: 2, note: '' }),
    ).toEqual({ ip: '10.0.0.1', count: 5, ratio: -0.25, 'dry-run': true, env: 'prod', level: '2', who: 'me', note: '' });
  });

  test('null means "not given"', () => {
    expect(validateRunInputs(spec, { who: 'me', count: null })).toMatchObject({ count: 3 });
  });

  test.each([
    [{ who: 'me', nope: 1 }, 'inputs.nope', 'unknown input (this job has ip, count, ratio, dry-run, env, level, who, note)'],
    [{}, 'inputs.who', 'required'],
    [{ who: '' }, 'inputs.who', 'required (an empty value was given)'],
    [{ who: 5 }, 'inputs.who', 'value must be a string, got 5'],
    [{ who: 'me', count: '5x' }, 'inputs.count', 'value must be a number, got "5x"'],
    [{ who: 'me', count: '' }, 'inputs.count', 'value must be a number, got ""'],
    [{ who: 'me', count: '0x10' }, 'inputs.count', 'value must be a number, got "0x10"'],
    [{ who: 'me', 'dry-run': 'yes' }, 'inputs.dry-run', 'value must be true or false, got "yes"'],
    [{ who: 'me', ip: 'localhost' }, 'inputs.ip', 'value "localhost" does not match the pattern ^[0-9.]+$'],
    [{ who: 'me', ip: '1.2.3.4; rm -rf ~' }, 'inputs.ip', 'value "1.2.3.4; rm -rf ~" does not match the pattern ^[0-9.]+$'],
    [{ who: 'me', env: 'staging' }, 'inputs.env', 'value "staging" is not one of dev, prod'],
    [{ who: 'me', level: 4 }, 'inputs.level', 'value "4" is not one of 1, 2, 3'],
    [{ who: 'a\0b' }, 'inputs.who', 'value must not contain NUL characters'],
    [{ who: ['a'] }, 'inputs.who', 'value must be a string, got a list'],
  ])('%j is refused at %s', (overrides, path, message) => {
    const error = inputErrorOf(() => validateRunInputs(spec, overrides));
    expect(error.code).toBe('invalid_input');
    expect(error.details).toEqual([{ path, message }]);
    expect(error.message).toBe(`invalid inputs: ${path}: ${message}`);
  });

  test('every problem is reported', () => {
    const error = inputErrorOf(() => validateRunInputs(spec, { count: 'many', extra: 1 }));
    expect(error.details.map((d) => d.path)).toEqual(['inputs.extra', 'inputs.count', 'inputs.who']);
    expect(error.message).toMatch(/\(and 2 more\)$/);
  });

  test('a __proto__ override is just an unknown input', () => {
    const error = inputErrorOf(() => validateRunInputs(spec, JSON.parse('{"who": "me", "__proto__": {"x": 1}}') as Record<string, unknown>));
    expect(error.details).toEqual([{ path: 'inputs.__proto__', message: expect.stringMatching(/^unknown input/) as unknown as string }]);
  });

  test('a job without inputs', () => {
    const bare = parseJobSpec('name: bare\nsteps: [{ run: "true" }]\n');
    expect(validateRunInputs(bare, {})).toEqual({});
    expect(inputErrorOf(() => validateRunInputs(bare, { a: 1 })).details).toEqual([{ path: 'inputs.a', message: 'unknown input (this job has none)' }]);
  });

  test('the seed config takes ip and filepath overrides', () => {
    const seed = parseJobSpec(
      JSON.stringify({ name: 'Test', host: 'h', steps: [{ run: 'x ${{ inputs.ip }}' }], inputs: { ip: '192.168.1.84', filepath: 'a.tpk' } }),
      { format: 'json' },
    );
    expect(validateRunInputs(seed, { ip: '10.0.0.2' })).toEqual({ ip: '10.0.0.2', filepath: 'a.tpk' });
  });
});

describe('parseInputAssignments', () => {
  test('splits at the first "="', () => {
    expect({ ...parseInputAssignments(['ip=10.0.0.1', 'query=a=b&c=d', 'empty=']) }).toEqual({ ip: '10.0.0.1', query: 'a=b&c=d', empty: '' });
  });

  test('no assignments', () => {
    expect({ ...parseInputAssignments([]) }).toEqual({});
  });

  test.each([
    [['ip'], 'inputs', 'expected name=value, got "ip"'],
    [['=5'], 'inputs', 'missing the input name before "=" in "=5"'],
    [['a=1', 'a=2'], 'inputs.a', 'given more than once'],
  ])('%j is refused', (list, path, message) => {
    const error = inputErrorOf(() => parseInputAssignments(list));
    expect(error.details).toEqual([{ path, message }]);
  });

  test('__proto__ stays a plain key for validateRunInputs to refuse', () => {
    const parsed = parseInputAssignments(['__proto__=x']);
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(() => validateRunInputs(spec, { ...parsed, who: 'me' })).toThrow(/unknown input/);
  });
});
