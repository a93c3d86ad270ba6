import type { Command } from 'commander';
import { HostrunError } from '../core/errors.ts';
import { apiClientFromEnv } from './api-client.ts';
import { ago, printJson, printTable } from './output.ts';
import { expiryArg } from './secret-input.ts';

// hostrun token create --project P --role R [--name N] [--expires 30d] | token list | token revoke ID

const ROLES = ['viewer', 'developer', 'admin', 'owner'];

interface Token {
  id: string;
  name: string;
  hint: string | null;
  role: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description("API tokens of a project (for CI and scripts); yours with --mine");

  token
    .command('create')
    .description('create a token scoped to the project and a role; it is printed once')
    .requiredOption('--role <role>', ROLES.join(' | '))
    .option('--name <name>', 'what it is for', 'cli')
    .option('--expires <when>', 'lifetime: 30d, 12h, 90m, or an ISO time (default: never)')
    .option('--json', 'print JSON')
    .action(async (opts: { role: string; name: string; expires?: string; json?: boolean }) => {
      if (!ROLES.includes(opts.role)) throw new HostrunError('invalid_request', `--role must be one of ${ROLES.join(', ')}, not "${opts.role}"`);
      const created = await apiClientFromEnv().post<{ id: string; token: string; project: string; role: string; expires_at: string | null }>('/api/v1/tokens', {
        name: opts.name,
        role: opts.role,
        ...(opts.expires ? { expires_at: expiryArg(opts.expires) } : {}),
      });
      if (opts.json) return printJson(created);
      // The secret alone on stdout, so `T=$(hostrun token create ...)` works; the rest on stderr.
      process.stdout.write(created.token + '\n');
      process.stderr.write(`token ${created.id}: ${created.role} in project ${created.project}${created.expires_at ? `, expires ${created.expires_at}` : ''}; shown only now\n`);
    });

  token
    .command('list')
    .alias('ls')
    .description("the project's tokens (never their secrets); --mine: your personal tokens")
    .option('--mine', 'your personal tokens instead')
    .option('--json', 'print JSON')
    .action(async (opts: { mine?: boolean; json?: boolean }) => {
      const { tokens } = await apiClientFromEnv().get<{ tokens: Token[] }>(opts.mine ? '/api/v1/me/tokens' : '/api/v1/tokens');
      if (opts.json) return printJson(tokens);
      printTable(tokens, [
        { header: 'ID', value: (t) => t.id },
        { header: 'NAME', value: (t) => t.name },
        { header: 'ENDS', value: (t) => (t.hint ? `…${t.hint}` : '') },
        { header: 'ROLE', value: (t) => t.role ?? 'personal' },
        { header: 'LAST USED', value: (t) => ago(t.last_used_at) },
        { header: 'STATE', value: (t) => (t.revoked_at ? 'revoked' : t.expires_at && Date.parse(t.expires_at) < Date.now() ? 'expired' : t.expires_at ? `expires ${ago(t.expires_at)}` : 'active') },
      ]);
    });

  token
    .command('revoke <id>')
    .description('revoke a token at once')
    .option('--mine', 'one of your personal tokens')
    .action(async (id: string, opts: { mine?: boolean }) => {
      await apiClientFromEnv().delete(`${opts.mine ? '/api/v1/me/tokens' : '/api/v1/tokens'}/${encodeURIComponent(id)}`);
      process.stdout.write(`token ${id} revoked\n`);
    });
}
