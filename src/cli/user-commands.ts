import type { Command } from 'commander';
import { apiClientFromEnv } from './api-client.ts';
import { loadConfig } from './config.ts';
import { forgetToken, storeToken } from './credentials.ts';
import { ago, printJson, printTable } from './output.ts';
import { readPassword } from './secret-input.ts';

// hostrun user create | user list | login | logout | whoami

interface User {
  id: string;
  email: string;
  name: string | null;
  is_superadmin: boolean;
  created_at: string;
  disabled_at: string | null;
}

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('people who sign in (superadmins manage them)');

  user
    .command('create')
    .description('create a user; with --setup-token, the first user of a new installation (a superadmin)')
    .requiredOption('--email <email>', 'the email address they sign in with')
    .option('--name <name>', 'display name')
    .option('--setup-token <token>', 'the one-time token `hostrun start` printed (first user only)')
    .option('--superadmin', 'may do everything in every project')
    .option('--no-password', 'no password: the user signs in through Supabase only')
    .option('--password-stdin', 'read the password from stdin instead of asking')
    .option('--json', 'print the user as JSON')
    .action(async (opts: { email: string; name?: string; setupToken?: string; superadmin?: boolean; password: boolean; passwordStdin?: boolean; json?: boolean }) => {
      const client = apiClientFromEnv();
      const password = opts.password || opts.setupToken ? await readPassword(opts) : undefined;
      const body = { email: opts.email, ...(opts.name ? { name: opts.name } : {}), ...(password ? { password } : {}) };
      const res = opts.setupToken
        ? await client.post<{ user: User }>('/api/v1/setup', { ...body, setup_token: opts.setupToken })
        : await client.post<{ user: User }>('/api/v1/users', { ...body, ...(opts.superadmin ? { superadmin: true } : {}) });
      if (opts.json) return printJson(res.user);
      process.stdout.write(`user ${res.user.email} created${res.user.is_superadmin ? ' (superadmin)' : ''}\n`);
      if (opts.setupToken) process.stderr.write(`sign in with: hostrun login --email ${res.user.email}\n`);
    });

  user
    .command('list')
    .alias('ls')
    .description('every user (superadmins)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { users } = await apiClientFromEnv().get<{ users: User[] }>('/api/v1/users');
      if (opts.json) return printJson(users);
      printTable(users, [
        { header: 'EMAIL', value: (u) => u.email },
        { header: 'NAME', value: (u) => u.name ?? '' },
        { header: 'SUPERADMIN', value: (u) => (u.is_superadmin ? 'yes' : '') },
        { header: 'STATE', value: (u) => (u.disabled_at ? 'disabled' : 'active') },
        { header: 'CREATED', value: (u) => ago(u.created_at) },
      ]);
    });

  program
    .command('login')
    .description('sign in and store a personal token for this CLI (per server URL)')
    .requiredOption('--email <email>', 'your email address')
    .option('--password-stdin', 'read the password from stdin instead of asking')
    .option('--expires <when>', 'token lifetime: 30d, 12h, or an ISO time (default: until logout)')
    .action(async (opts: { email: string; passwordStdin?: boolean; expires?: string }) => {
      const password = await readPassword(opts);
      const { expiryArg } = await import('./secret-input.ts');
      const res = await apiClientFromEnv().post<{ token: string; user: User }>('/api/v1/auth/token', {
        email: opts.email,
        password,
        name: `hostrun login (${process.env.USER ?? 'cli'})`,
        ...(opts.expires ? { expires_at: expiryArg(opts.expires) } : {}),
      });
      const file = storeToken(loadConfig().url, res.token, res.user.email);
      process.stdout.write(`signed in as ${res.user.email}; token stored in ${file}\n`);
    });

  program
    .command('logout')
    .description('revoke and forget the token `hostrun login` stored for this server')
    .action(async () => {
      const url = loadConfig().url;
      const token = forgetToken(url);
      if (!token) return void process.stdout.write(`not signed in to ${url}\n`);
      const client = apiClientFromEnv({ ...process.env, HOSTRUN_TOKEN: token });
      const me = await client.get<{ token: { id: string } | null }>('/api/v1/me').catch(() => null);
      if (me?.token) await client.delete(`/api/v1/me/tokens/${me.token.id}`).catch(() => {});
      process.stdout.write(`signed out of ${url}\n`);
    });

  program
    .command('whoami')
    .description('who the CLI acts as, and where')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const me = await apiClientFromEnv().get<{
        kind: string;
        user: User | null;
        is_superadmin: boolean;
        token: { scope: { project: string; role: string } | null } | null;
        projects: { slug: string; role: string }[];
      }>('/api/v1/me');
      if (opts.json) return printJson(me);
      const who = me.user ? me.user.email : me.token?.scope ? `a ${me.token.scope.role} token of project ${me.token.scope.project}` : 'the admin token';
      process.stdout.write(`${who}${me.is_superadmin ? ' (superadmin)' : ''}\n`);
      for (const p of me.projects) process.stdout.write(`  ${p.slug}  ${p.role}\n`);
    });
}
