// The preamble that defines a step's variables with the target shell's own quoting, and
// the command line that starts each shell reading its script from stdin.

import { HostrunError } from './errors.ts';
import { SHELL_VARIABLE_NAME } from './script-variables.ts';
import type { Shell } from './types.ts';

/** cmd.exe refuses longer command lines; a longer `set` would be cut off silently. */
const CMD_MAX_LINE = 8191;

const CMD_REFUSED: Record<string, string> = {
  '"': 'a double quote',
  '%': 'a percent sign',
  '!': 'an exclamation mark',
  '^': 'a caret',
  '\r': 'a carriage return',
  '\n': 'a newline',
};

interface Definition {
  name: string;
  value: string;
  exported: boolean;
}

/**
 * Lines defining `variables` (for bash/sh: shell variables, not exported) and `exported`
 * (environment variables for every child process). Prepend to the rendered script.
 *
 * Inputs and secrets stay unexported in bash/sh: Linux caps one environment string at
 * 128 KiB, and a larger value in the environment would make every command the script
 * starts fail with E2BIG. The script reads them as shell variables all the same.
 * PowerShell and cmd have only environment variables (`$env:`, `set`); Windows caps those
 * at 32,767 characters each.
 */
export function renderPreamble(shell: Shell, variables: Record<string, string>, exported: Record<string, string> = {}): string {
  const definitions: Definition[] = [];
  for (const [name, value] of Object.entries(exported)) definitions.push({ name, value, exported: true });
  for (const [name, value] of Object.entries(variables)) {
    // HOSTRUN_RUN_ID and friends may come both ways, with the same value: export it once.
    if (Object.hasOwn(exported, name)) {
      if (exported[name] !== value) throw new HostrunError('invalid_spec', `${name} is defined twice with different values (env: and a reference)`);
      continue;
    }
    definitions.push({ name, value, exported: false });
  }
  for (const { name, value } of definitions) {
    if (!SHELL_VARIABLE_NAME.test(name)) {
      throw new HostrunError('invalid_spec', `"${name}" is not a valid environment variable name (letters, digits and _, not starting with a digit)`);
    }
    if (value.includes('\0')) throw new HostrunError('invalid_input', `the value of ${name} contains a NUL character, which no shell can receive`);
  }
  switch (shell) {
    case 'bash':
    case 'sh':
      return definitions.map((d) => `${d.exported ? 'export ' : ''}${d.name}=${posixQuote(d.value)}\n`).join('');
    case 'pwsh':
    case 'powershell':
      return definitions.map((d) => `$env:${d.name} = ${powerShellString(d.value)}\n`).join('');
    case 'cmd':
      return `@echo off\r\n${definitions.map((d) => cmdSet(d.name, d.value)).join('')}`;
  }
}

/** Single quotes keep every byte literal in bash and sh; a quote is closed, escaped, reopened. */
export function posixQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * A PowerShell expression whose value is exactly `value`.
 *
 * Printable ASCII goes in a single-quoted literal with `'` doubled. Anything else travels
 * as base64 of its UTF-8 bytes, so the preamble is pure ASCII, one line per variable:
 * - PowerShell also ends strings at the typographic quotes ‘ ’ ‚ ‛ (and “ ” „), so those
 *   never get the chance to appear inside a literal;
 * - Windows PowerShell decodes stdin with the console code page, and in code page 1252 the
 *   UTF-8 bytes of e.g. "ё" (D1 91) read as "Ñ‘": a closing quote out of a harmless letter;
 * - `-Command -` reads stdin line by line, so a literal spanning lines would not parse as
 *   one statement.
 */
export function powerShellString(value: string): string {
  if (/^[\x20-\x7E\t]*$/.test(value)) return `'${value.replaceAll("'", "''")}'`;
  return `[System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String('${base64Utf8(value)}'))`;
}

// TextEncoder and btoa rather than Buffer: core stays free of Node-only APIs.
function base64Utf8(value: string): string {
  const bytes = new TextEncoder().encode(value);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * `set "NAME=value"`, or a refusal. cmd has no quoting that makes every character literal:
 * `%` expands even inside quotes (and `%%` only escapes it in batch files, not in commands
 * read from stdin); with delayed expansion on, `!` and `^` are processed inside quotes too;
 * a `"` inside the value ends the quoted argument, after which & | < > run commands; and a
 * CR or LF ends the command. Escaping rules differ between these phases, so any attempt to
 * escape would be a guess. Refusing is the only choice that is safe for every value.
 */
function cmdSet(name: string, value: string): string {
  const bad = /["%!^\r\n]/.exec(value);
  if (bad) {
    const shown = CMD_REFUSED[bad[0]] ?? bad[0];
    throw new HostrunError(
      'unsupported',
      `${name} contains ${shown}, which cmd cannot receive safely; use pwsh or powershell for this step, or change the value`,
    );
  }
  const line = `set "${name}=${value}"`;
  if (line.length > CMD_MAX_LINE) {
    throw new HostrunError('unsupported', `${name} is too long for cmd (${value.length} characters; cmd lines end at ${CMD_MAX_LINE})`);
  }
  return `${line}\r\n`;
}

/**
 * How to start `shell` on the machine itself so that it reads the script from stdin.
 *
 * bash gets GitHub Actions' defaults (`--noprofile --norc -e -o pipefail`): a failing
 * command fails the step, as users of Actions expect, and no rc file changes behaviour;
 * `-s` makes it read the script from stdin. cmd gets /V:ON because script.ts references
 * variables as !NAME! (delayed expansion), and /D to skip AutoRun commands.
 */
export function shellCommand(shell: Shell): { command: string; args: string[] } {
  switch (shell) {
    case 'bash':
      return { command: 'bash', args: ['--noprofile', '--norc', '-e', '-o', 'pipefail', '-s'] };
    case 'sh':
      return { command: 'sh', args: ['-e', '-s'] };
    case 'pwsh':
      return { command: 'pwsh', args: ['-NoProfile', '-NonInteractive', '-Command', '-'] };
    case 'powershell':
      return { command: 'powershell', args: ['-NoProfile', '-NonInteractive', '-Command', '-'] };
    case 'cmd':
      return { command: 'cmd', args: ['/D', '/Q', '/V:ON'] };
  }
}
