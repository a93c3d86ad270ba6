import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import type { ExprRef } from '../../src/core/expressions.ts';
import { assembleScript, planStepScript, renderStepScript, shellCommand } from '../../src/core/script.ts';
import type { Shell } from '../../src/core/types.ts';

const values: Record<string, string> = { x: 'X', n: '5', a: 'yes' };
const resolve = (ref: ExprRef): string | undefined => {
  if (ref.context === 'inputs') return values[ref.name];
  if (ref.context === 'secrets') return `secret-${ref.name}`;
  if (ref.context === 'run') return ref.name === 'id' ? '42' : '1';
  if (ref.context === 'trigger') return ref.path.length ? `payload.${ref.path.join('.')}` : '{"a":1}';
  if (ref.context === 'steps') return ref.name === 'outputs' ? `out-${ref.key}` : 'success';
  return undefined;
};
const render = (shell: Shell, run: string, extraEnv?: Record<string, string>) => renderStepScript(run, shell, resolve, extraEnv);

describe('bash and sh: references by quoting context', () => {
  test.each([
    ['echo ${{ inputs.x }}', 'echo "${INPUT_X}"'],
    ['echo "a ${{ inputs.x }} b"', 'echo "a ${INPUT_X} b"'],
    ["echo 'a ${{ inputs.x }} b'", `echo 'a '"\${INPUT_X}"' b'`],
    ["echo $'\\t${{ inputs.x }}'", `echo $'\\t'"\${INPUT_X}"$''`],
    ['echo "it\'s" ${{ inputs.x }}', 'echo "it\'s" "${INPUT_X}"'],
    ["# don't\necho ${{ inputs.x }}", `# don't\necho "\${INPUT_X}"`],
    ["echo a#'b' ${{ inputs.x }}", `echo a#'b' "\${INPUT_X}"`],
    ["echo \"$(printf '%s' ${{ inputs.x }})\"", `echo "$(printf '%s' "\${INPUT_X}")"`],
    ['echo "$((1 + 2)) ${{ inputs.x }}"', 'echo "$((1 + 2)) ${INPUT_X}"'],
    ['echo `printf %s ${{ inputs.x }}`', 'echo `printf %s "${INPUT_X}"`'],
    ["cat <<EOF\n${{ inputs.x }} it's\nEOF\necho ${{ inputs.x }}", `cat <<EOF\n\${INPUT_X} it's\nEOF\necho "\${INPUT_X}"`],
    ["cat <<'A' <<B\n'${{ inputs.x }}\nA\n${{ inputs.x }}\nB", null],
    ["cat <<<'here' ${{ inputs.x }}", `cat <<<'here' "\${INPUT_X}"`],
    ['x=${{ inputs.x }}; echo "${x:-${{ inputs.x }}}"', 'x="${INPUT_X}"; echo "${x:-${INPUT_X}}"'],
    ['echo ${#x} ${{ inputs.x }}', 'echo ${#x} "${INPUT_X}"'],
    ['echo ${{ inputs.x }}#not-a-comment ${{ inputs.x }}', 'echo "${INPUT_X}"#not-a-comment "${INPUT_X}"'],
    ['# ${{ inputs.x }}', '# ${INPUT_X}'],
  ])('%j', (run, expected) => {
    if (expected === null) {
      expect(() => render('bash', run)).toThrow(/quoted here-document/);
      return;
    }
    expect(render('bash', run).script).toBe(expected);
  });

  test('$\'...\' is plain $ then a single-quoted string in sh', () => {
    expect(render('sh', "echo $'${{ inputs.x }}'").script).toBe(`echo $''"\${INPUT_X}"''`);
  });

  test.each([
    ['echo $(( ${{ inputs.n }} + 1 ))', 'inside $(( )) or (( )) is not supported'],
    ['(( ${{ inputs.n }} > 1 ))', 'inside $(( )) or (( )) is not supported'],
    ["cat <<'EOF'\n${{ inputs.x }}\nEOF", 'inside a quoted here-document'],
    ['cat <<"EOF"\n${{ inputs.x }}\nEOF', 'inside a quoted here-document'],
    ['cat <<\\EOF\n${{ inputs.x }}\nEOF', 'inside a quoted here-document'],
    ['echo \\${{ inputs.x }}', 'right after an escape character'],
    ['echo "\\${{ inputs.x }}"', 'right after an escape character'],
    ['echo $${{ inputs.x }}', '"$" right before ${{ inputs.x }} is ambiguous'],
  ])('%j is refused', (run, message) => {
    expect(() => render('bash', run)).toThrow(expect.objectContaining({ code: 'unsupported', message: expect.stringContaining(message) }));
  });
});

describe('PowerShell', () => {
  test.each<[string, string | RegExp]>([
    ['Write-Output ${{ inputs.x }}', 'Write-Output ${env:INPUT_X}'],
    ['Write-Output ${{ inputs.x }}.txt', 'Write-Output ${env:INPUT_X}.txt'],
    ['Write-Output "a ${{ inputs.x }} b"', 'Write-Output "a ${env:INPUT_X} b"'],
    ['Write-Output "a ""q"" ${{ inputs.x }}"', 'Write-Output "a ""q"" ${env:INPUT_X}"'],
    ["Write-Output 'it''s' ${{ inputs.x }}", "Write-Output 'it''s' ${env:INPUT_X}"],
    ["# it's\nWrite-Output ${{ inputs.x }}", "# it's\nWrite-Output ${env:INPUT_X}"],
    ["<# it's\n #> ${{ inputs.x }}", "<# it's\n #> ${env:INPUT_X}"],
    ['$v = @"\nline ${{ inputs.x }}\n"@\n${{ inputs.x }}', '$v = @"\nline ${env:INPUT_X}\n"@\n${env:INPUT_X}'],
    ["\"$(Get-Item '${{ inputs.x }}')\"", /single-quoted PowerShell string/],
    ["Write-Output 'a ${{ inputs.x }}'", /single-quoted PowerShell string/],
    ['Write-Output \u2018a ${{ inputs.x }}\u2019', /single-quoted PowerShell string/],
    ["$v = @'\n${{ inputs.x }}\n'@", /single-quoted PowerShell string/],
    ['Write-Output `${{ inputs.x }}', /right after an escape character/],
    ['Write-Output ${a${{ inputs.x }}}', /not supported here/],
    ['"$(Write-Output ${{ inputs.x }})"', '"$(Write-Output ${env:INPUT_X})"'],
  ])('%j', (run, expected) => {
    for (const shell of ['pwsh', 'powershell'] as const) {
      if (typeof expected === 'string') expect(render(shell, run).script).toBe(expected);
      else expect(() => render(shell, run)).toThrow(expect.objectContaining({ code: 'unsupported', message: expect.stringMatching(expected) }));
    }
  });
});

describe('cmd', () => {
  test('delayed expansion everywhere', () => {
    expect(render('cmd', 'echo ${{ inputs.x }} "${{ inputs.x }}" & dir').script).toBe('echo !INPUT_X! "!INPUT_X!" & dir');
  });

  test.each(['^', '!', '%'])('refuses %s right before a reference', (c) => {
    expect(() => render('cmd', `echo ${c}\${{ inputs.x }}`)).toThrow(expect.objectContaining({ code: 'unsupported' }));
  });
});

describe('variables', () => {
  test('names and values', () => {
    const r = render(
      'bash',
      'echo ${{ inputs.x }} ${{ secrets.api-key }} ${{ steps.build-1.outputs.my-tag }} ${{ steps.b.outcome }} ${{ run.id }} ${{ run.attempt }} ${{ trigger.payload }} ${{ job.name }}',
    );
    expect(r.variables).toEqual({
      INPUT_X: 'X',
      SECRET_API_KEY: 'secret-api-key',
      STEP_BUILD_1_OUTPUT_MY_TAG: 'out-my-tag',
      STEP_B_OUTCOME: 'success',
      HOSTRUN_RUN_ID: '42',
      HOSTRUN_RUN_ATTEMPT: '1',
      HOSTRUN_TRIGGER_PAYLOAD: '{"a":1}',
      HOSTRUN_JOB_NAME: '',
    });
    expect(r.script).toBe(
      'echo "${INPUT_X}" "${SECRET_API_KEY}" "${STEP_BUILD_1_OUTPUT_MY_TAG}" "${STEP_B_OUTCOME}" "${HOSTRUN_RUN_ID}" "${HOSTRUN_RUN_ATTEMPT}" "${HOSTRUN_TRIGGER_PAYLOAD}" "${HOSTRUN_JOB_NAME}"',
    );
  });

  test('expressions that are not a single path become HOSTRUN_EXPR_<n>', () => {
    const r = render('bash', "echo ${{ inputs.a == 'YES' }} ${{ trigger.payload.ref }} ${{ 'lit' }} ${{ inputs.x }}");
    expect(r.script).toBe('echo "${HOSTRUN_EXPR_1}" "${HOSTRUN_EXPR_2}" "${HOSTRUN_EXPR_3}" "${INPUT_X}"');
    expect(r.variables).toEqual({ HOSTRUN_EXPR_1: 'true', HOSTRUN_EXPR_2: 'payload.ref', HOSTRUN_EXPR_3: 'lit', INPUT_X: 'X' });
  });

  test('env.X is the env variable itself; runtime variables given in extraEnv are not duplicated', () => {
    const r = render('bash', 'echo ${{ env.MODE }} ${{ run.id }}', { MODE: 'fast', HOSTRUN_RUN_ID: '42' });
    expect(r.script).toBe('echo "${MODE}" "${HOSTRUN_RUN_ID}"');
    expect(r.variables).toEqual({});
    expect(r.exported).toEqual({ MODE: 'fast', HOSTRUN_RUN_ID: '42' });
  });

  test('a missing value is empty', () => {
    expect(render('bash', 'echo ${{ inputs.none }}').variables).toEqual({ INPUT_NONE: '' });
  });

  test('an ExprContext works in place of a resolver', () => {
    const r = renderStepScript('echo ${{ inputs.n }} ${{ inputs.b }}', 'bash', { inputs: { n: 5, b: true } });
    expect(r.variables).toEqual({ INPUT_N: '5', INPUT_B: 'true' });
  });

  test.each([
    ['echo ${{ secrets.token }} ${{ secrets.TOKEN }}', 'secrets.token and secrets.TOKEN would both become the shell variable SECRET_TOKEN'],
    ['echo ${{ steps.a.outputs.b_output_c }} ${{ steps.a_output_b.outputs.c }}', 'would both become the shell variable STEP_A_OUTPUT_B_OUTPUT_C'],
    ['echo ${{ success() }}', 'success(), failure(), always() and cancelled() can only be used in if:'],
    ['echo ${{ env.A-B }}', 'env.A-B: not a valid environment variable name'],
    ['echo ${{ inputs.x', 'unterminated'],
  ])('%j is refused', (run, message) => {
    expect(() => render('bash', run)).toThrow(message);
  });

  test('a generated name that env: defines is refused', () => {
    expect(() => render('bash', 'echo ${{ inputs.x }}', { INPUT_X: 'other' })).toThrow(
      'inputs.x becomes the shell variable INPUT_X, which env: already defines; rename that env variable',
    );
  });

  test('planning without a shell checks names only, and reports offsets', () => {
    expect(planStepScript("echo '${{ inputs.x }}'", undefined).map((r) => [r.variable, r.replacement])).toEqual([['INPUT_X', '']]);
    try {
      planStepScript('echo ok; echo ${{ nope.x }}', undefined);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ offset: 14, message: expect.stringContaining('unknown context "nope"') });
    }
  });
});

describe('assembleScript and shellCommand', () => {
  test('preamble, then the script in one brace group (bash, sh), ending in a newline', () => {
    expect(assembleScript('bash', render('bash', 'echo ${{ inputs.x }}', { MODE: 'm' }))).toBe(
      "export MODE='m'\nINPUT_X='X'\n{\necho \"${INPUT_X}\"\n}\n",
    );
    expect(assembleScript('cmd', render('cmd', 'echo ${{ inputs.x }}'))).toBe('@echo off\r\nset "INPUT_X=X"\r\necho !INPUT_X!\r\n');
  });

  test.each<Shell>(['bash', 'sh'])('%s: a command that reads stdin gets end of input, not the rest of the script', (shell) => {
    const { command, args } = shellCommand(shell);
    const script = assembleScript(shell, render(shell, 'cat\necho after-cat\nread -r line || echo read-got-eof\n'));
    const out = spawnSync(command, args, { input: script, encoding: 'utf8' });
    expect(out.stdout).toBe('after-cat\nread-got-eof\n');
    expect(out.status).toBe(0);
  });

  test.each<Shell>(['bash', 'sh'])('%s: a syntax error anywhere runs nothing', (shell) => {
    const { command, args } = shellCommand(shell);
    const out = spawnSync(command, args, { input: assembleScript(shell, render(shell, 'echo ran\nif then fi\n')), encoding: 'utf8' });
    expect(out.stdout).toBe('');
    expect(out.status).not.toBe(0);
  });

  test.each<[Shell, string, string[]]>([
    ['bash', 'bash', ['--noprofile', '--norc', '-e', '-o', 'pipefail', '-s']],
    ['sh', 'sh', ['-e', '-s']],
    ['pwsh', 'pwsh', ['-NoProfile', '-NonInteractive', '-Command', '-']],
    ['powershell', 'powershell', ['-NoProfile', '-NonInteractive', '-Command', '-']],
    ['cmd', 'cmd', ['/D', '/Q', '/V:ON']],
  ])('%s', (shell, command, args) => {
    expect(shellCommand(shell)).toEqual({ command, args });
  });
});
