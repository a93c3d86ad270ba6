import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { SpecError, type ErrorDetail } from '../../src/core/errors.ts';
import { normalizeJobSpec, parseJobSpec } from '../../src/core/spec.ts';

// Copies of ../shared/examples kept in the repository, so the suite runs on any fresh clone.
const EXAMPLES = fileURLToPath(new URL('../server/fixtures', import.meta.url));

function specErrorOf(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return e as SpecError;
  }
  throw new Error('expected a SpecError');
}

const errorOf = (source: string, format?: 'json'): SpecError => specErrorOf(() => parseJobSpec(source, format ? { format } : {}));

describe('valid specs', () => {
  test('examples/hello.yaml', () => {
    const spec = parseJobSpec(readFileSync(`${EXAMPLES}/hello.yaml`, 'utf8'));
    expect(spec).toEqual({
      name: 'hello',
      description: 'Greets someone on the local machine.',
      runsOn: { kind: 'local' },
      inputs: { name: { type: 'string', required: false, description: 'Who to greet', default: 'world' } },
      env: {},
      schedules: [],
      webhook: false,
      retries: { max: 0, backoff: 'exponential', delaySeconds: 10 },
      priority: 0,
      steps: [
        { id: 'step-1', name: 'greet', run: 'echo "hello, ${{ inputs.name }}"', env: {}, continueOnError: false },
        { id: 'step-2', name: 'where', run: 'uname -s', env: {}, continueOnError: false },
      ],
    });
  });

  test('examples/seed-config.json, unchanged, maps to a host job', () => {
    const source = readFileSync(`${EXAMPLES}/seed-config.json`, 'utf8');
    // The example's address is only parsed here, never contacted; it is read from the file.
    const { host } = JSON.parse(source) as { host: string };
    const expected = {
      name: 'Test',
      runsOn: { kind: 'host', name: host },
      host: { address: host, username: 'sunri', sshKeySecret: 'secret_key_ref', os: 'windows' },
      inputs: {
        ip: { type: 'string', required: false, default: '192.168.1.84' },
        filepath: { type: 'string', required: false, default: 'tizen_native/preprod-tizennative-weakssl-5.18.11604-17858.tpk' },
      },
      env: {},
      schedules: [{ cron: '0 */1 * * *', timezone: 'UTC', inputs: {}, misfire: 'skip', enabled: true }],
      webhook: false,
      repository: { url: 'https://github.com/user/repo.git' },
      retries: { max: 0, backoff: 'exponential', delaySeconds: 10 },
      priority: 0,
      steps: [
        { id: 'step-1', name: 'whoami', run: 'whoami', env: {}, continueOnError: false },
        {
          id: 'step-2',
          name: 'python install_tizen_native_app.py ${{ inputs.ip }} ${{ inputs.filepath }}',
          run: 'python install_tizen_native_app.py ${{ inputs.ip }} ${{ inputs.filepath }}',
          env: {},
          continueOnError: false,
        },
      ],
    };
    expect(parseJobSpec(source, { format: 'json' })).toEqual(expected);
    expect(normalizeJobSpec(JSON.parse(source))).toEqual(expected);
  });

  test('the architecture example, with every shorthand expanded', () => {
    const spec = parseJobSpec(`
name: install-tizen-app
runs-on: win-lab
inputs:
  ip:       { default: 192.168.1.84, pattern: '^[0-9.]+$' }
  filepath: { default: tizen_native/app.tpk }
on:
  schedule: [{ cron: "0 * * * *", timezone: Europe/Berlin }]
  webhook: true
repository: https://github.com/user/repo.git
timeout-minutes: 30
retries: { max: 3, backoff: exponential }
concurrency: { group: "tv-\${{ inputs.ip }}", max: 1 }
steps:
  - run: whoami
  - run: python install_tizen_native_app.py \${{ inputs.ip }} \${{ inputs.filepath }}
`);
    expect(spec.runsOn).toEqual({ kind: 'host', name: 'win-lab' });
    expect(spec.inputs.ip).toEqual({ type: 'string', required: false, default: '192.168.1.84', pattern: '^[0-9.]+$' });
    expect(spec.schedules).toEqual([{ cron: '0 * * * *', timezone: 'Europe/Berlin', inputs: {}, misfire: 'skip', enabled: true }]);
    expect(spec.webhook).toBe(true);
    expect(spec.timeoutMinutes).toBe(30);
    expect(spec.retries).toEqual({ max: 3, backoff: 'exponential', delaySeconds: 10 });
    expect(spec.concurrency).toEqual({ group: 'tv-${{ inputs.ip }}', max: 1 });
    expect(spec.steps.map((s) => s.id)).toEqual(['step-1', 'step-2']);
  });

  test('shorthands and defaults', () => {
    const spec = parseJobSpec(`
name: all.the_things-1
runs-on: { labels: [gpu, linux] }
inputs:
  count: 3
  verbose: false
  env: { options: [dev, prod], default: prod }
  who: { type: string, required: true }
  note:
env: { DEBUG: 1, MODE: fast }
retries: 2
concurrency: deploy-\${{ inputs.env }}
priority: -5
shell: sh
steps:
  - id: build
    run: |
      make
      echo "tag=1" >> "$HOSTRUN_OUTPUT"
    env: { LEVEL: 2 }
    continue-on-error: true
    timeout-minutes: 0.5
  - uses: sleep
    with: { ms: 250 }
    if: \${{ steps.build.outputs.tag == '1' }}
  - uses: noop
    if: true
`);
    expect(spec.runsOn).toEqual({ kind: 'labels', labels: ['gpu', 'linux'] });
    expect(spec.inputs).toEqual({
      count: { type: 'number', required: false, default: 3 },
      verbose: { type: 'boolean', required: false, default: false },
      env: { type: 'choice', required: false, options: ['dev', 'prod'], default: 'prod' },
      who: { type: 'string', required: true },
      note: { type: 'string', required: false },
    });
    expect(spec.env).toEqual({ DEBUG: '1', MODE: 'fast' });
    expect(spec.retries).toEqual({ max: 2, backoff: 'exponential', delaySeconds: 10 });
    expect(spec.concurrency).toEqual({ group: 'deploy-${{ inputs.env }}', max: 1 });
    expect(spec.priority).toBe(-5);
    expect(spec.shell).toBe('sh');
    expect(spec.steps[0]).toMatchObject({ id: 'build', name: 'make', env: { LEVEL: '2' }, continueOnError: true, timeoutMinutes: 0.5 });
    expect(spec.steps[1]).toMatchObject({ id: 'step-2', name: 'sleep', uses: 'sleep', with: { ms: 250 } });
    expect(spec.steps[2]).toMatchObject({ id: 'step-3', name: 'noop', uses: 'noop', if: 'true' });
  });

  test('schedules: every, inputs typed like run inputs, misfire, enabled', () => {
    const spec = parseJobSpec(`
name: s
inputs: { n: 1, host: { required: true } }
on:
  schedule:
    - { every: 15m, inputs: { n: "5", host: a }, misfire: all, enabled: false, timezone: America/New_York }
    - { cron: "*/5 * * * * *", inputs: { host: b } }
steps: [{ run: "true" }]
`);
    expect(spec.schedules).toEqual([
      { every: '15m', timezone: 'America/New_York', inputs: { n: 5, host: 'a' }, misfire: 'all', enabled: false },
      { cron: '*/5 * * * * *', timezone: 'UTC', inputs: { host: 'b' }, misfire: 'skip', enabled: true },
    ]);
  });

  test('on.schedule as a bare cron string', () => {
    const spec = parseJobSpec('name: s\non:\n  schedule: "@daily"\nsteps: [{ run: "true" }]\n');
    expect(spec.schedules).toEqual([{ cron: '@daily', timezone: 'UTC', inputs: {}, misfire: 'skip', enabled: true }]);
  });

  test('a required input without default must be set by every schedule', () => {
    const error = errorOf('name: s\ninputs: { who: { required: true } }\non:\n  schedule: "@daily"\nsteps: [{ run: "true" }]\n');
    expect(error.details).toEqual([
      { path: 'on.schedule', message: `input "who" is required and has no default; set it in this schedule's inputs`, line: 4, column: 13 },
    ]);
  });

  test('flat shape: schedule with timezone, env and a repository object', () => {
    const spec = normalizeJobSpec({
      name: 'flat',
      host: 'build-1.lan',
      os: 'linux',
      timezone: 'Europe/Berlin',
      schedule: '30 2 * * 1-5',
      env: { A: 'b' },
      repository: { url: 'git@github.com:user/repo.git', ref: 'v1.2' },
      steps: [{ run: 'make' }],
    });
    expect(spec.runsOn).toEqual({ kind: 'host', name: 'build-1.lan' });
    expect(spec.host).toEqual({ address: 'build-1.lan', os: 'linux' });
    expect(spec.schedules[0]).toMatchObject({ cron: '30 2 * * 1-5', timezone: 'Europe/Berlin' });
    expect(spec.repository).toEqual({ url: 'git@github.com:user/repo.git', ref: 'v1.2' });
  });

  test('YAML 1.2: "on" is a key, not true', () => {
    expect(parseJobSpec('name: a\non: { webhook: true }\nsteps: [{ run: x }]\n').webhook).toBe(true);
  });
});

interface Case {
  name: string;
  source: string;
  detail: ErrorDetail;
  format?: 'json';
}

const invalid: Case[] = [
  {
    name: 'missing steps',
    source: 'name: x\nrunsOn: local\n',
    detail: { path: 'steps', message: 'required', line: 1, column: 1 },
  },
  {
    name: 'empty steps',
    source: 'name: x\nsteps: []\n',
    detail: { path: 'steps', message: 'at least one step is required', line: 2, column: 8 },
  },
  {
    name: 'a step with neither run nor uses',
    source: 'name: x\nsteps:\n  - run: echo a\n  - name: second\n    shell: bash\n',
    detail: { path: 'steps[1].run', message: 'required (or "uses")', line: 4, column: 5 },
  },
  {
    name: 'a step with both run and uses',
    source: 'name: x\nsteps:\n  - run: echo a\n    uses: noop\n',
    detail: { path: 'steps[0].uses', message: 'a step takes either "run" or "uses", not both', line: 4, column: 11 },
  },
  {
    name: 'unknown top-level key',
    source: 'name: x\nsteps: [{ run: a }]\nfoo: 1\n',
    detail: { path: 'foo', message: 'unknown key "foo"', line: 3, column: 1 },
  },
  {
    name: 'a snake_case key gets a hint',
    source: 'name: x\ntimeout_minutes: 5\nsteps: [{ run: a }]\n',
    detail: { path: 'timeout_minutes', message: 'unknown key "timeout_minutes"; did you mean "timeout-minutes"?', line: 2, column: 1 },
  },
  {
    name: 'unknown step key',
    source: 'name: x\nsteps:\n  - run: a\n    shel: bash\n',
    detail: { path: 'steps[0].shel', message: 'unknown key "shel"', line: 4, column: 5 },
  },
  {
    name: 'a cron with 3 fields',
    source: 'name: x\non:\n  schedule:\n    - cron: "0 * *"\nsteps: [{ run: a }]\n',
    detail: { path: 'on.schedule[0].cron', message: 'expected 5 or 6 fields (or @hourly, @daily, ...), got 3', line: 4, column: 13 },
  },
  {
    name: 'a bare cron string with 7 fields',
    source: 'name: x\non:\n  schedule: "0 0 * * * * *"\nsteps: [{ run: a }]\n',
    detail: { path: 'on.schedule', message: 'expected 5 or 6 fields (or @hourly, @daily, ...), got 7', line: 3, column: 13 },
  },
  {
    name: 'an unknown time zone',
    source: 'name: x\non:\n  schedule:\n    - cron: "0 * * * *"\n      timezone: Mars/Olympus\nsteps: [{ run: a }]\n',
    detail: {
      path: 'on.schedule[0].timezone',
      message: 'unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Berlin, or UTC)',
      line: 5,
      column: 17,
    },
  },
  {
    name: 'a bad interval',
    source: 'name: x\non: { schedule: [{ every: 10 minutes }] }\nsteps: [{ run: a }]\n',
    detail: { path: 'on.schedule[0].every', message: 'expected an interval such as 30s, 15m, 1h or 2d', line: 2, column: 27 },
  },
  {
    name: 'a pattern that is not a regular expression',
    source: "name: x\ninputs:\n  ip: { default: 1.2.3.4, pattern: '^[0-9.+$' }\nsteps: [{ run: a }]\n",
    detail: { path: 'inputs.ip.pattern', message: 'not a valid regular expression: /^[0-9.+$/: Unterminated character class', line: 3, column: 36 },
  },
  {
    name: 'a default that does not match the pattern',
    source: "name: x\ninputs:\n  ip:\n    default: localhost\n    pattern: '^[0-9.]+$'\nsteps: [{ run: a }]\n",
    detail: { path: 'inputs.ip.default', message: 'default "localhost" does not match the pattern ^[0-9.]+$', line: 4, column: 14 },
  },
  {
    name: 'a choice default that is not an option',
    source: 'name: x\ninputs:\n  env: { type: choice, options: [dev, prod], default: staging }\nsteps: [{ run: a }]\n',
    detail: { path: 'inputs.env.default', message: 'default "staging" is not one of dev, prod', line: 3, column: 55 },
  },
  {
    name: 'a choice without options',
    source: 'name: x\ninputs:\n  env: { type: choice }\nsteps: [{ run: a }]\n',
    detail: { path: 'inputs.env.options', message: 'required for type choice', line: 3, column: 8 },
  },
  {
    name: 'a number default that is not a number',
    source: 'name: x\ninputs:\n  n: { type: number, default: many }\nsteps: [{ run: a }]\n',
    detail: { path: 'inputs.n.default', message: 'default must be a number, got "many"', line: 3, column: 31 },
  },
  {
    name: 'an invalid input name',
    source: 'name: x\ninputs:\n  1ip: a\nsteps: [{ run: a }]\n',
    detail: {
      path: 'inputs["1ip"]',
      message: 'invalid input name: use letters, digits, _ and -, starting with a letter or _',
      line: 3,
      column: 3,
    },
  },
  {
    name: 'inputs whose variables collide',
    source: 'name: x\ninputs:\n  a-b: 1\n  a_b: 2\nsteps: [{ run: a }]\n',
    detail: { path: 'inputs.a_b', message: 'inputs "a-b" and "a_b" would both be the variable INPUT_A_B; rename one', line: 4, column: 3 },
  },
  {
    name: 'duplicate step ids',
    source: 'name: x\nsteps:\n  - id: build\n    run: a\n  - id: build\n    run: b\n',
    detail: { path: 'steps[1].id', message: 'duplicate step id "build" (steps[0] has it too)', line: 5, column: 9 },
  },
  {
    name: 'an explicit id that takes a later default id',
    source: 'name: x\nsteps:\n  - id: step-2\n    run: a\n  - run: b\n',
    detail: { path: 'steps[1]', message: 'this step\'s default id "step-2" is taken by steps[0]; give it an id', line: 5, column: 5 },
  },
  {
    name: 'an unknown input referenced in run',
    source: 'name: x\ninputs: { ip: 1.2.3.4 }\nsteps:\n  - run: ping -c 1 ${{ inputs.ipp }}\n',
    detail: { path: 'steps[0].run', message: 'unknown input "ipp" (declared: ip)', line: 4, column: 20 },
  },
  {
    name: 'an unknown input in the second line of a block script',
    source: 'name: x\nsteps:\n  - run: |\n      echo start\n      echo "${{ inputs.who }}"\n',
    detail: { path: 'steps[0].run', message: 'unknown input "who" (this job declares no inputs)', line: 5, column: 13 },
  },
  {
    name: 'a step output of a step that runs later',
    source: 'name: x\nsteps:\n  - run: echo ${{ steps.b.outputs.x }}\n  - id: b\n    run: echo\n',
    detail: { path: 'steps[0].run', message: 'step "b" has not run yet here', line: 3, column: 15 },
  },
  {
    name: 'an unknown context',
    source: "name: x\nsteps:\n  - run: echo '${{ github.sha }}'\n",
    detail: { path: 'steps[0].run', message: 'unknown context "github" (expected inputs, secrets, env, steps, run, job or trigger)', line: 3, column: 16 },
  },
  {
    name: 'a status function in run',
    source: 'name: x\nsteps:\n  - run: echo ${{ failure() }}\n',
    detail: { path: 'steps[0].run', message: "failure() can only be used in a step's if:", line: 3, column: 15 },
  },
  {
    name: 'a secret in the concurrency group',
    source: 'name: x\nconcurrency: k-${{ secrets.TOKEN }}\nsteps: [{ run: a }]\n',
    detail: { path: "concurrency", message: "secrets is not available in concurrency.group", line: 2, column: 16 },
  },
  {
    name: 'an if: that does not parse',
    source: "name: x\nsteps:\n  - run: a\n    if: inputs.a == 'x' &&\n",
    detail: { path: 'steps[0].if', message: 'invalid expression: expected a value at the end', line: 4, column: 27 },
  },
  {
    name: 'an unterminated ${{',
    source: 'name: x\nsteps:\n  - run: echo ${{ inputs.a\n',
    detail: { path: 'steps[0].run', message: 'invalid expression: unterminated "${{": missing "}}"', line: 3, column: 15 },
  },
  {
    name: '${{ }} in a single-quoted PowerShell string',
    source: "name: x\ninputs: { a: 1 }\nsteps:\n  - shell: pwsh\n    run: Write-Output '${{ inputs.a }}'\n",
    detail: {
      path: 'steps[0].run',
      message: `\${{ inputs.a }} inside a single-quoted PowerShell string cannot expand; use double quotes ("...") or none`,
      line: 5,
      column: 24,
    },
  },
  {
    name: 'an env name that collides with a reference',
    source: 'name: x\ninputs: { x: 1 }\nenv: { INPUT_X: 2 }\nsteps:\n  - run: echo ${{ inputs.x }}\n',
    detail: {
      path: 'steps[0].run',
      message: 'inputs.x becomes the shell variable INPUT_X, which env: already defines; rename that env variable',
      line: 5,
      column: 15,
    },
  },
  {
    name: 'a reserved env name',
    source: 'name: x\nenv: { HOSTRUN_RUN_ID: 1 }\nsteps: [{ run: a }]\n',
    detail: { path: 'env.HOSTRUN_RUN_ID', message: 'names starting with HOSTRUN_ are reserved for the runner', line: 2, column: 8 },
  },
  {
    name: 'sleep without ms',
    source: 'name: x\nsteps:\n  - uses: sleep\n',
    detail: { path: 'steps[0].with', message: 'required: sleep needs with.ms', line: 3, column: 5 },
  },
  {
    name: 'with on a run step',
    source: 'name: x\nsteps:\n  - run: a\n    with: { ms: 1 }\n',
    detail: { path: 'steps[0].with', message: '"with" is only for "uses" steps', line: 4, column: 11 },
  },
  {
    name: 'an unknown built-in',
    source: 'name: x\nsteps:\n  - uses: actions/checkout@v4\n',
    detail: { path: 'steps[0].uses', message: 'expected "noop" or "sleep", got "actions/checkout@v4"', line: 3, column: 11 },
  },
  {
    name: 'a repository URL that would be a git option',
    source: 'name: x\nrepository: --upload-pack=touch /tmp/x\nsteps: [{ run: a }]\n',
    detail: {
      path: 'repository',
      message: 'expected a git URL (https://, ssh://, git://, file://, user@host:path) or an absolute path',
      line: 2,
      column: 13,
    },
  },
  {
    name: 'a schedule input that is not declared',
    source: 'name: x\non:\n  schedule: [{ cron: "@hourly", inputs: { nope: 1 } }]\nsteps: [{ run: a }]\n',
    detail: { path: 'on.schedule[0].inputs.nope', message: 'unknown input "nope"', line: 3, column: 43 },
  },
  {
    name: 'priority out of range',
    source: 'name: x\npriority: 101\nsteps: [{ run: a }]\n',
    detail: { path: 'priority', message: 'must be at most 100', line: 2, column: 11 },
  },
  {
    name: 'a job name with a space',
    source: 'name: my job\nsteps: [{ run: a }]\n',
    detail: {
      path: 'name',
      message: 'invalid job name: letters, digits, ".", "_" and "-", starting with a letter or digit, at most 128',
      line: 1,
      column: 7,
    },
  },
  {
    name: 'a __proto__ key',
    source: 'name: x\ninputs:\n  __proto__: { default: 1 }\nsteps: [{ run: a }]\n',
    detail: { path: 'inputs.__proto__', message: 'reserved key "__proto__"', line: 3, column: 3 },
  },
  {
    name: 'the flat shape rejects GitHub-style keys',
    source: '{\n  "name": "t",\n  "host": "10.0.0.1",\n  "runs-on": "local",\n  "steps": [{"run": "a"}]\n}\n',
    format: 'json',
    detail: {
      path: 'runs-on',
      message:
        'unknown key "runs-on" (with "host" this is the flat shape: name, host, username, ssh_key, os, repository, inputs, schedule, timezone, env, timeout-minutes, steps)',
      line: 4,
      column: 3,
    },
  },
  {
    name: 'the flat shape with a bad cron',
    source: '{"name": "t", "host": "h", "schedule": "0 */1 * *", "steps": [{"run": "a"}]}',
    format: 'json',
    detail: { path: 'schedule', message: 'expected 5 or 6 fields (or @hourly, @daily, ...), got 4', line: 1, column: 40 },
  },
  {
    name: 'a flat host that would be an ssh option',
    source: '{"name": "t", "host": "-oProxyCommand=touch /tmp/x", "steps": [{"run": "a"}]}',
    format: 'json',
    detail: { path: 'host', message: 'expected a host name or IP address', line: 1, column: 23 },
  },
  {
    name: 'JSON with an unknown input reference',
    source: '{\n  "name": "t",\n  "steps": [\n    {"run": "echo ${{ inputs.nope }}"}\n  ]\n}\n',
    format: 'json',
    detail: { path: 'steps[0].run', message: 'unknown input "nope" (this job declares no inputs)', line: 4, column: 19 },
  },
  {
    name: 'a YAML syntax error',
    source: 'name: x\nsteps:\n  - run: "echo\n',
    detail: { path: '', message: 'YAML syntax: Missing closing "quote', line: 4, column: 1 },
  },
  {
    name: 'a duplicate key',
    source: 'name: x\nname: y\nsteps: [{ run: a }]\n',
    detail: { path: '', message: 'YAML syntax: Map keys must be unique', line: 2, column: 1 },
  },
  {
    name: 'a JSON syntax error',
    source: '{"name": "x", "steps": [}',
    format: 'json',
    detail: { path: '', message: expect.stringMatching(/^JSON syntax: /) as unknown as string, line: 1, column: 25 },
  },
  {
    name: 'not a mapping',
    source: '- run: a\n',
    detail: { path: '', message: 'a job spec must be a mapping (name, steps, ...), got a list', line: 1, column: 1 },
  },
];

describe('invalid specs', () => {
  test.each(invalid)('$name', ({ source, detail, format }) => {
    const error = errorOf(source, format);
    expect(error.code).toBe('invalid_spec');
    expect(error.details).toContainEqual(detail);
  });

  test('the message is a one-line summary of the first problem in the file', () => {
    const error = errorOf('name: x\nsteps:\n  - run: echo a\n  - name: second\n    shell: bash\n');
    expect(error.message).toBe('invalid job spec: steps[1].run: required (or "uses") (line 4, column 5)');
  });

  test('every problem is listed, in source order', () => {
    const error = errorOf(`name: x
inputs:
  c: { options: [a, b], default: z }
steps:
  - run: echo a
  - name: second
foo: 1
`);
    expect(error.details.map((d) => [d.path, d.line])).toEqual([
      ['inputs.c.default', 3],
      ['steps[1].run', 6],
      ['foo', 7],
    ]);
    expect(error.message).toBe('invalid job spec: inputs.c.default: default "z" is not one of a, b (line 3, column 34) (and 2 more)');
  });

  test('objects from the API get paths without positions', () => {
    const error = specErrorOf(() => normalizeJobSpec({ name: 'x', steps: [{ run: 'a' }, { run: 'echo ${{ inputs.q }}' }] }));
    expect(error.details).toEqual([{ path: 'steps[1].run', message: 'unknown input "q" (this job declares no inputs)' }]);
  });

  test('anything but a mapping is refused', () => {
    for (const value of [null, 'name: x', 42, []]) {
      expect(() => normalizeJobSpec(value)).toThrow(SpecError);
    }
  });

  test('an alias to an unknown anchor', () => {
    const error = errorOf('name: x\nsteps: *nope\n');
    expect(error.details[0]).toMatchObject({ path: '', line: 2 });
  });

  test('a flood of aliases (billion laughs) is refused', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
    expect(() => parseJobSpec(`${lines.join('\n')}\nname: x\nsteps: [{ run: a }]\n`)).toThrow(SpecError);
  });
});

describe('strategy (fan-out over labelled hosts)', () => {
  test('takes max-parallel with runs-on labels, and refuses it anywhere else', () => {
    expect(parseJobSpec('name: f\nruns-on: { labels: [web] }\nstrategy: { max-parallel: 3 }\nsteps:\n  - run: x\n').strategy).toEqual({ maxParallel: 3 });
    expect(() => parseJobSpec('name: f\nruns-on: web-1\nstrategy: { max-parallel: 3 }\nsteps:\n  - run: x\n')).toThrow(/strategy: strategy applies only with runs-on: \{ labels/);
    expect(() => parseJobSpec('name: f\nruns-on: { labels: [web] }\nstrategy: { max-parallel: 0 }\nsteps:\n  - run: x\n')).toThrow(/max-parallel/);
  });
});
