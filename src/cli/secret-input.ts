import { createInterface } from 'node:readline';
import { HostrunError } from '../core/errors.ts';

// Passwords for `hostrun user create` and `hostrun login`: from stdin with --password-stdin
// (scripts, CI), else asked for on the terminal without echo. Never from a command-line flag,
// where it would land in shell history and `ps`.

export async function readPassword(opts: { passwordStdin?: boolean }, prompt = 'Password: '): Promise<string> {
  if (opts.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    if (text === '') throw new HostrunError('invalid_request', 'no password on stdin');
    return text;
  }
  if (!process.stdin.isTTY) throw new HostrunError('invalid_request', 'no terminal to ask for the password: pipe it in with --password-stdin');
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stderr.write(prompt);
    output._writeToOutput = () => {};
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

/** `30d`, `12h`, `90m` or an ISO time, as an ISO time in the future. */
export function expiryArg(raw: string, now = Date.now()): string {
  const rel = /^([1-9][0-9]{0,5})([mhdw])$/.exec(raw.trim());
  if (rel) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[rel[2] as 'm' | 'h' | 'd' | 'w'];
    return new Date(now + Number(rel[1]) * unit).toISOString();
  }
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw new HostrunError('invalid_request', `--expires must be like 30d, 12h, 90m or an ISO time, not "${raw}"`);
  return new Date(at).toISOString();
}
