// Values that would run code if they were spliced into a script, run through REAL shells:
// each must arrive byte for byte as data, and the canary file must never appear.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { assembleScript, renderPreamble, renderStepScript, shellCommand } from '../../src/core/script.ts';
import type { ExprRef } from '../../src/core/expressions.ts';
import type { Shell } from '../../src/core/types.ts';

// `/tmp/x` is replaced by a canary path unique to each test.
const PAYLOADS: [string, string][] = [
  ['command substitution', '$(touch /tmp/x)'],
  ['backticks', '`touch /tmp/x`'],
  ['semicolon', 'a; touch /tmp/x'],
  ['and', 'a && touch /tmp/x'],
  ['pipe', 'a | touch /tmp/x'],
  ['single quotes', "' ; touch /tmp/x ; '"],
  ['double quotes', '" ; touch /tmp/x ; "'],
  ['quote, IFS and comment', 'zzz";echo${IFS}"hello";#'],
  ['newline', 'a\ntouch /tmp/x'],
  ['$HOME', '$HOME'],
  ['%PATH%', '%PATH%'],
  ['!x', '!x'],
  ['backslash', '\\'],
  ['1 MiB', 'A'.repeat(1_048_576)],
  ['glob and spaces', ' * a  b ?'],
  ['leading dash', '-n'],
  ['empty', ''],
  ['trailing newlines', 'a\n\n'],
  ['ANSI-C quote', "$'\\x41' $(touch /tmp/x)"],
  ['a reference to the variable itself', '${INPUT_X} $INPUT_X'],
  ['unicode and typographic quotes', 'ё ’‘ “” „ é'],
  ['tab and CR', 'a\tb\rc'],
  ['brace expansion', '{a,b} ~ ~root'],
  ['heredoc-ish', 'EOF\n$(touch /tmp/x)\nEOF'],
  ['process substitution', '<(touch /tmp/x) >(touch /tmp/x)'],
  ['arithmetic', '$((1+1)) a[$(touch /tmp/x)]'],
];

const FORMS: [string, string][] = [
  ['double-quoted', `printf '%s' "\${{ inputs.x }}" > "$OUT"`],
  ['unquoted', `printf '%s' \${{ inputs.x }} > "$OUT"`],
  ['single-quoted', `printf '%s' '\${{ inputs.x }}' > "$OUT"`],
];

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function sandbox(): { dir: string; canary: string; out: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'hostrun-injection-'));
  dirs.push(dir);
  return { dir, canary: path.join(dir, 'canary'), out: path.join(dir, 'out') };
}

/** Render `run` with input x = value, pipe preamble + script to the shell, return what it wrote to $OUT. */
function runStep(
  shell: 'bash' | 'sh',
  run: string,
  values: Record<string, string>,
  box: ReturnType<typeof sandbox>,
  options: { extraEnv?: Record<string, string>; command?: { command: string; args: string[] } } = {},
): Buffer {
  const resolve = (ref: ExprRef): string | undefined => (ref.context === 'inputs' ? values[ref.name] : undefined);
  const rendered = renderStepScript(run, shell, resolve, options.extraEnv);
  const { command, args } = options.command ?? { command: shell, args: shell === 'bash' ? ['--noprofile', '--norc', '-s'] : ['-s'] };
  const result = spawnSync(command, args, {
    input: assembleScript(shell, rendered),
    cwd: box.dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OUT: box.out, HOME: box.dir },
    maxBuffer: 8 * 1024 * 1024,
  });
  expect(result.stderr.toString()).toBe('');
  expect(result.status).toBe(0);
  return readFileSync(box.out);
}

describe.each(FORMS)('bash, %s reference', (_form, run) => {
  test.each(PAYLOADS)('%s arrives as data', (_name, template) => {
    const box = sandbox();
    const payload = template.replaceAll('/tmp/x', box.canary);
    const written = runStep('bash', run, { x: payload }, box);
    expect(written.equals(Buffer.from(payload, 'utf8'))).toBe(true);
    expect(existsSync(box.canary)).toBe(false);
  });
});

describe.each(FORMS)('sh (dash), %s reference', (_form, run) => {
  test.each(PAYLOADS.filter(([name]) => ['command substitution', 'backticks', 'single quotes', 'double quotes', 'newline', 'backslash', 'glob and spaces', '1 MiB'].includes(name)))(
    '%s arrives as data',
    (_name, template) => {
      const box = sandbox();
      const payload = template.replaceAll('/tmp/x', box.canary);
      const written = runStep('sh', run, { x: payload }, box);
      expect(written.equals(Buffer.from(payload, 'utf8'))).toBe(true);
      expect(existsSync(box.canary)).toBe(false);
    },
  );
});

// Where quoting starts afresh or works differently: the lexer must follow along.
const CONTEXTS: [string, string, (payload: string) => string][] = [
  ['inside $( ) inside double quotes', `v="$(printf '%s' \${{ inputs.x }})"; printf '%s' "$v" > "$OUT"`, (p) => p],
  ['inside backticks', "v=`printf '%s' ${{ inputs.x }}`; printf '%s' \"$v\" > \"$OUT\"", (p) => p],
  ['inside $\'...\'', `printf '%s' $'<\\t\${{ inputs.x }}>' > "$OUT"`, (p) => `<\t${p}>`],
  ['in a here-document', 'cat > "$OUT" <<EOF\n[${{ inputs.x }}] it\'s "quoted"\nEOF', (p) => `[${p}] it's "quoted"\n`],
  ['in a <<- here-document, then after it', 'cat > "$OUT" <<-END\n\t${{ inputs.x }}\n\tEND\nprintf \'%s\' ${{ inputs.x }} >> "$OUT"', (p) => `${p}\n${p}`],
  ['after a comment with an apostrophe', `# don't "worry"\nprintf '%s' \${{ inputs.x }} > "$OUT"`, (p) => p],
  ['after an escaped quote', `printf '%s' \\' \${{ inputs.x }} > "$OUT"`, (p) => `'${p}`],
  ['in an assignment and a case', 'v=${{ inputs.x }}\ncase ${{ inputs.x }} in *) printf \'%s\' "$v" > "$OUT";; esac', (p) => p],
  ['twice in one word', `printf '%s' \${{ inputs.x }}-'\${{ inputs.x }}'-"\${{ inputs.x }}" > "$OUT"`, (p) => `${p}-${p}-${p}`],
  ['in ${VAR:-default}', `printf '%s' "\${UNSET:-\${{ inputs.x }}}" > "$OUT"`, (p) => p],
  ['in an unquoted ${VAR:-default}', `printf '%s' \${UNSET:-\${{ inputs.x }}} > "$OUT"`, (p) => p],
  ['in a here-document inside $( )', 'v=$(cat <<EOF\n<${{ inputs.x }}>\nEOF\n)\nprintf \'%s\' "$v" > "$OUT"', (p) => `<${p}>`],
];

describe.each(CONTEXTS)('bash, reference %s', (_name, run, expected) => {
  test.each(PAYLOADS.filter(([name]) => !['1 MiB', 'trailing newlines', 'empty'].includes(name)))('%s', (_payloadName, template) => {
    const box = sandbox();
    const payload = template.replaceAll('/tmp/x', box.canary);
    const written = runStep('bash', run, { x: payload }, box);
    expect(written.toString('utf8')).toBe(expected(payload));
    expect(existsSync(box.canary)).toBe(false);
  });
});

describe('bash, the rest of the contract', () => {
  test("GitHub's bash flags (shellCommand) run the same script", () => {
    const box = sandbox();
    const payload = `$(touch ${box.canary}); exit 3`;
    const written = runStep('bash', `printf '%s' \${{ inputs.x }} > "$OUT"`, { x: payload }, box, { command: shellCommand('bash') });
    expect(written.toString()).toBe(payload);
    expect(existsSync(box.canary)).toBe(false);
  });

  test('a 1 MiB input is not exported, so child processes still start (no E2BIG)', () => {
    const box = sandbox();
    const payload = 'B'.repeat(1_048_576);
    const run = `/usr/bin/env true\nprintf '%s' "\${{ inputs.x }}" | wc -c > "$OUT"\nenv | grep -c '^INPUT_X=' >> "$OUT" || true`;
    expect(runStep('bash', run, { x: payload }, box).toString().split(/\s+/).filter(Boolean)).toEqual(['1048576', '0']);
  });

  test('env: values are exported to children; env.X reads the variable itself', () => {
    const box = sandbox();
    const value = `$(touch ${box.canary}) 'q' "d"`;
    const run = `printf '%s|%s' "$(printenv MODE)" \${{ env.MODE }} > "$OUT"`;
    expect(runStep('bash', run, {}, box, { extraEnv: { MODE: value } }).toString()).toBe(`${value}|${value}`);
    expect(existsSync(box.canary)).toBe(false);
  });

  test('a computed expression is passed by variable too', () => {
    const box = sandbox();
    const run = `printf '%s %s' \${{ inputs.x == 'yes' }} "\${{ inputs.x || 'none' }}" > "$OUT"`;
    expect(runStep('bash', run, { x: 'YES' }, box).toString()).toBe('true YES');
  });

  test('the preamble alone defines values verbatim in bash and dash', () => {
    for (const shell of ['bash', 'sh'] as const) {
      const box = sandbox();
      const value = `it's "$(touch ${box.canary})"\n\\ \`x\` $HOME !x %P%`;
      const script = `${renderPreamble(shell, { INPUT_A: value }, { EXPORTED: value })}printf '%s' "$INPUT_A" > "$OUT"; printenv EXPORTED >> "$OUT"\n`;
      const result = spawnSync(shell, ['-s'], { input: script, cwd: box.dir, env: { PATH: process.env.PATH, OUT: box.out } });
      expect(result.status).toBe(0);
      expect(readFileSync(box.out, 'utf8')).toBe(`${value}${value}\n`);
      expect(existsSync(box.canary)).toBe(false);
    }
  });
});

describe('shells without a local binary here: exact preamble bytes', () => {
  test.each<[Shell, Record<string, string>, Record<string, string>, string]>([
    ['pwsh', { INPUT_X: "it's $(x) `y` \"z\"" }, {}, `$env:INPUT_X = 'it''s $(x) \`y\` "z"'\n`],
    ['powershell', { INPUT_X: '$(touch /tmp/x); calc' }, { MODE: 'fast' }, "$env:MODE = 'fast'\n$env:INPUT_X = '$(touch /tmp/x); calc'\n"],
    // Non-ASCII and newlines travel as base64 of UTF-8, keeping the script ASCII and one line per value.
    [
      'pwsh',
      { INPUT_X: 'a’b', INPUT_Y: 'line1\nline2' },
      {},
      "$env:INPUT_X = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String('YeKAmWI='))\n" +
        "$env:INPUT_Y = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String('bGluZTEKbGluZTI='))\n",
    ],
    ['pwsh', { INPUT_X: '' }, {}, "$env:INPUT_X = ''\n"],
    ['cmd', { INPUT_X: 'a & b | c > d <e> (f)' }, { MODE: 'fast' }, '@echo off\r\nset "MODE=fast"\r\nset "INPUT_X=a & b | c > d <e> (f)"\r\n'],
    ['cmd', {}, {}, '@echo off\r\n'],
    ['bash', { INPUT_X: "it's\nok" }, { MODE: 'fa st' }, "export MODE='fa st'\nINPUT_X='it'\\''s\nok'\n"],
  ])('%s %j %j', (shell, variables, exported, expected) => {
    expect(renderPreamble(shell, variables, exported)).toBe(expected);
  });

  test.each([
    ['"', 'a double quote'],
    ['%', 'a percent sign'],
    ['!', 'an exclamation mark'],
    ['^', 'a caret'],
    ['\n', 'a newline'],
    ['\r', 'a carriage return'],
  ])('cmd refuses a value with %j', (char, shown) => {
    expect(() => renderPreamble('cmd', { INPUT_IP: `1.2.3.4${char}calc` })).toThrow(
      expect.objectContaining({
        code: 'unsupported',
        message: `INPUT_IP contains ${shown}, which cmd cannot receive safely; use pwsh or powershell for this step, or change the value`,
      }),
    );
  });

  test('cmd refuses a value longer than a command line', () => {
    expect(() => renderPreamble('cmd', { INPUT_X: 'a'.repeat(9000) })).toThrow(expect.objectContaining({ code: 'unsupported' }));
  });

  test.each<Shell>(['bash', 'sh', 'pwsh', 'powershell', 'cmd'])('%s refuses NUL and names it', (shell) => {
    expect(() => renderPreamble(shell, { SECRET_K: 'a\0b' })).toThrow(
      expect.objectContaining({ code: 'invalid_input', message: 'the value of SECRET_K contains a NUL character, which no shell can receive' }),
    );
  });

  test.each<Shell>(['bash', 'pwsh', 'cmd'])('%s refuses a name that is not an identifier', (shell) => {
    expect(() => renderPreamble(shell, {}, { 'A=B; touch x': '1' })).toThrow(expect.objectContaining({ code: 'invalid_spec' }));
    expect(() => renderPreamble(shell, {}, { '1A': '1' })).toThrow(expect.objectContaining({ code: 'invalid_spec' }));
  });
});

test('PowerShell base64 values decode to the exact UTF-8 bytes, even large ones', () => {
  const value = `ё’‘“ \nline 2${'Ж'.repeat(100_000)}`;
  const line = renderPreamble('pwsh', { INPUT_X: value });
  const base64 = /FromBase64String\('([A-Za-z0-9+/=]+)'\)/.exec(line)?.[1];
  expect(Buffer.from(base64 ?? '', 'base64').toString('utf8')).toBe(value);
  expect(line).toMatch(/^[\x20-\x7E\n]*$/);
});
