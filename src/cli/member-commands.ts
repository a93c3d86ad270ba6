import type { Command } from 'commander';
import { HostrunError } from '../core/errors.ts';
import { apiClientFromEnv } from './api-client.ts';
import { ago, printJson, printTable } from './output.ts';

// hostrun member add EMAIL --role R | member list | member rm EMAIL   (in --project)

const ROLES = ['viewer', 'developer', 'admin', 'owner'];

interface Member {
  user_id: string;
  email: string;
  name: string | null;
  role: string;
  created_at: string;
}

function roleArg(role: string): string {
  if (!ROLES.includes(role)) throw new HostrunError('invalid_request', `--role must be one of ${ROLES.join(', ')}, not "${role}"`);
  return role;
}

export function registerMemberCommands(program: Command): void {
  const member = program.command('member').description("a project's members and their roles (owner > admin > developer > viewer)");

  member
    .command('add <user>')
    .description("add a user (by email) to the project, or change a member's role")
    .requiredOption('--role <role>', ROLES.join(' | '))
    .option('--json', 'print JSON')
    .action(async (user: string, opts: { role: string; json?: boolean }) => {
      const { member: m } = await apiClientFromEnv().post<{ member: Member }>('/api/v1/members', { user, role: roleArg(opts.role) });
      if (opts.json) return printJson(m);
      process.stdout.write(`${m.email} is ${m.role}\n`);
    });

  member
    .command('list')
    .alias('ls')
    .description("the project's members")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { members } = await apiClientFromEnv().get<{ members: Member[] }>('/api/v1/members');
      if (opts.json) return printJson(members);
      if (members.length === 0) return void process.stderr.write('no members yet: hostrun member add <email> --role developer\n');
      printTable(members, [
        { header: 'EMAIL', value: (m) => m.email },
        { header: 'NAME', value: (m) => m.name ?? '' },
        { header: 'ROLE', value: (m) => m.role },
        { header: 'SINCE', value: (m) => ago(m.created_at) },
      ]);
    });

  member
    .command('rm <user>')
    .alias('remove')
    .description('remove a member from the project')
    .action(async (user: string) => {
      const res = await apiClientFromEnv().delete<{ email: string }>(`/api/v1/members/${encodeURIComponent(user)}`);
      process.stdout.write(`${res.email} removed\n`);
    });
}
