import type { Command } from 'commander';
import { HostrunError } from '../core/errors.ts';
import type { HostInput } from '../client/types.ts';
import { apiClientFromEnv } from './api-client.ts';
import { parseIntOption } from './config.ts';
import { ago, printJson, printTable, runExitCode } from './output.ts';
import { followRun } from './run-commands.ts';

// hostrun host add NAME --address A --user U [--port N] [--os linux|windows] [--shell S]
//                       [--labels a,b] [--key-secret S [--passphrase-secret S]] [--password-secret S]
//                       [--fingerprint SHA256:...] [--trust-on-first-use]
// hostrun host list | show NAME | rm NAME | test NAME

interface AddOptions {
  address: string;
  user: string;
  port?: string;
  os?: string;
  shell?: string;
  labels?: string;
  keySecret?: string;
  passphraseSecret?: string;
  passwordSecret?: string;
  fingerprint?: string;
  trustOnFirstUse?: boolean;
  json?: boolean;
}

export function registerHostCommands(program: Command): void {
  const host = program.command('host').description('machines reached over SSH');

  host
    .command('add <name>')
    .description('add a host, or replace its definition')
    .requiredOption('--address <address>', 'host name or IP address')
    .requiredOption('--user <user>', 'user to log in as')
    .option('--port <port>', 'SSH port (22)')
    .option('--os <os>', 'linux or windows (linux)')
    .option('--shell <shell>', 'bash, sh, pwsh, powershell or cmd (bash on linux, powershell on windows)')
    .option('--labels <a,b>', 'labels, for runs-on: { labels: [...] }')
    .option('--key-secret <name>', 'secret holding the private key')
    .option('--passphrase-secret <name>', "secret holding the key's passphrase")
    .option('--password-secret <name>', 'secret holding a password (instead of a key)')
    .option('--fingerprint <SHA256:...>', 'pin this host key now (from ssh-keygen -lf)')
    .option('--trust-on-first-use', 'pin whatever key the host presents first, without a test')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: AddOptions) => {
      if (!opts.keySecret && !opts.passwordSecret) {
        throw new HostrunError('invalid_request', 'a host needs --key-secret or --password-secret (store the credential first: hostrun secret set NAME --from-file ~/.ssh/id_ed25519)');
      }
      if (opts.os && opts.os !== 'linux' && opts.os !== 'windows') throw new HostrunError('invalid_request', '--os must be linux or windows');
      const body: HostInput = {
        address: opts.address,
        username: opts.user,
        ...(opts.port ? { port: parseIntOption(opts.port, '--port', 1, 65535) } : {}),
        ...(opts.os ? { os: opts.os as 'linux' | 'windows' } : {}),
        ...(opts.shell ? { shell: opts.shell as HostInput['shell'] } : {}),
        ...(opts.labels ? { labels: opts.labels.split(',').map((l) => l.trim()).filter(Boolean) } : {}),
        key_secret: opts.keySecret ?? null,
        passphrase_secret: opts.passphraseSecret ?? null,
        password_secret: opts.passwordSecret ?? null,
        ...(opts.fingerprint ? { fingerprint: opts.fingerprint } : {}),
        trust_on_first_use: Boolean(opts.trustOnFirstUse),
      };
      const { host: h, created } = await apiClientFromEnv().hosts.put(name, body);
      if (opts.json) return printJson(h);
      process.stdout.write(`host ${h.name} ${created ? 'added' : 'updated'} (${h.username}@${h.address}:${h.port})\n`);
      if (!h.fingerprint && !h.trust_on_first_use) process.stdout.write(`its host key is not pinned yet: run \`hostrun host test ${h.name}\`\n`);
    });

  host
    .command('list')
    .alias('ls')
    .description('list hosts')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const hosts = await apiClientFromEnv().hosts.list();
      if (opts.json) return printJson(hosts);
      if (hosts.length === 0) return void process.stderr.write('no hosts: add one with `hostrun host add NAME --address A --user U --key-secret S`\n');
      printTable(hosts, [
        { header: 'NAME', value: (h) => h.name },
        { header: 'ADDRESS', value: (h) => `${h.username}@${h.address}:${h.port}` },
        { header: 'OS', value: (h) => h.os },
        { header: 'LABELS', value: (h) => h.labels.join(',') || '-' },
        { header: 'HOST KEY', value: (h) => h.fingerprint ?? (h.trust_on_first_use ? 'pinned on first use' : 'not pinned'), flexible: true },
        { header: 'UPDATED', value: (h) => ago(h.updated_at) },
      ]);
    });

  host
    .command('show <name>')
    .description('show a host')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const h = await apiClientFromEnv().hosts.get(name);
      if (opts.json) return printJson(h);
      const credential = h.key_secret ? `key in secret ${h.key_secret}${h.passphrase_secret ? ` (passphrase in ${h.passphrase_secret})` : ''}` : `password in secret ${h.password_secret}`;
      process.stdout.write(
        [
          `name:        ${h.name}`,
          `address:     ${h.username}@${h.address}:${h.port}`,
          `os / shell:  ${h.os} / ${h.shell ?? (h.os === 'windows' ? 'powershell' : 'bash')}`,
          `labels:      ${h.labels.join(', ') || '-'}`,
          `credential:  ${credential}`,
          `host key:    ${h.fingerprint ?? 'not pinned'}${h.trust_on_first_use ? ' (trust on first use)' : ''}`,
          '',
        ].join('\n'),
      );
    });

  host
    .command('rm <name>')
    .description('remove a host (runs keep their history)')
    .action(async (name: string) => {
      await apiClientFromEnv().hosts.delete(name);
      process.stdout.write(`host ${name} removed\n`);
    });

  host
    .command('test <name>')
    .description("connect, show the host key and pin it if none is pinned yet, run whoami")
    .action(async (name: string) => {
      const client = apiClientFromEnv();
      const { run_id } = await client.hosts.test(name);
      process.stderr.write(`testing ${name} (run ${run_id})\n`);
      const end = await followRun(client, run_id, { print: true });
      const h = await client.hosts.get(name);
      process.stdout.write(`host key: ${h.fingerprint ?? 'not pinned'}\n`);
      process.exitCode = runExitCode(end);
    });
}
