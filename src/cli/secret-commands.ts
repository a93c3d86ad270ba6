import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { HostrunError } from '../core/errors.ts';
import { apiClientFromEnv } from './api-client.ts';
import { ago, printJson, printTable } from './output.ts';

// hostrun secret set NAME [--from-file F | --value V]   (else read from stdin; never echoed)
// hostrun secret list | rm NAME

export function registerSecretCommands(program: Command): void {
  const secret = program.command('secret').description('write-only secrets: keys, passwords, tokens');

  secret
    .command('set <name>')
    .description('set or replace a secret; the value is never shown again')
    .option('--from-file <file>', 'read the value from a file (e.g. a private key)')
    .option('--value <value>', 'the value itself (visible in your shell history: prefer stdin or a file)')
    .action(async (name: string, opts: { fromFile?: string; value?: string }) => {
      const value = opts.fromFile !== undefined ? readSecretFile(opts.fromFile) : opts.value !== undefined ? opts.value : await readStdin();
      if (value.length === 0) throw new HostrunError('invalid_request', 'the secret value is empty');
      const { created } = await apiClientFromEnv().secrets.set(name, value);
      process.stdout.write(`secret ${name} ${created ? 'set' : 'replaced'}\n`);
    });

  secret
    .command('list')
    .alias('ls')
    .description('list secret names (values are never shown)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const secrets = await apiClientFromEnv().secrets.list();
      if (opts.json) return printJson(secrets);
      if (secrets.length === 0) return void process.stderr.write('no secrets: add one with `hostrun secret set NAME --from-file FILE`\n');
      printTable(secrets, [
        { header: 'NAME', value: (s) => s.name },
        { header: 'UPDATED', value: (s) => ago(s.updated_at) },
        { header: 'CREATED', value: (s) => ago(s.created_at) },
      ]);
    });

  secret
    .command('rm <name>')
    .description('delete a secret')
    .action(async (name: string) => {
      await apiClientFromEnv().secrets.delete(name);
      process.stdout.write(`secret ${name} deleted\n`);
    });
}

function readSecretFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new HostrunError('invalid_request', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** From a pipe, or typed at a terminal without echo: the value never appears on screen. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write('value (not shown; end with Enter): ');
    process.stdin.setRawMode(true);
    const value = await new Promise<string>((resolve) => {
      let text = '';
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            process.stdin.off('data', onData);
            resolve(text);
            return;
          }
          if (ch === '\u0003') process.exit(130);
          text = ch === '\u007f' ? text.slice(0, -1) : text + ch;
        }
      };
      process.stdin.on('data', onData);
    });
    process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stderr.write('\n');
    return value;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // A trailing newline from `echo` or a heredoc is not part of a password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
