import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startSshd, type TestSshd } from '../support/sshd.ts';
import { cli, json, scratch, startServer, type Scratch, type Server } from '../cli/harness.ts';

// The user's flow of the SSH issue, end to end through the CLI and a started Hostrun:
// secret set -> host add -> host test (fingerprint shown and pinned) -> job apply -> run --follow.
describe('hostrun secret / host / run over SSH (CLI, SSH server on 127.0.0.1)', () => {
  let db: TestDatabase;
  let sshd: TestSshd;
  let s: Scratch;
  let server: Server;

  beforeAll(async () => {
    db = await createTestDatabase();
    sshd = await startSshd();
    s = await scratch('hostrun-ssh-cli-');
    server = await startServer(s, db.url);
  });

  afterAll(async () => {
    await server?.stop();
    await sshd?.stop();
    await db?.drop();
  });

  it('sets a secret, adds and tests a host, runs a job on it, and never shows the secret', async () => {
    const keyFile = path.join(s.dir, 'id_ed25519');
    writeFileSync(keyFile, sshd.privateKey, { mode: 0o600 });
    const set = await cli(s, ['secret', 'set', 'lab-key', '--from-file', keyFile]);
    expect(set.code, set.stderr).toBe(0);

    const add = await cli(s, ['host', 'add', 'web-1', '--address', '127.0.0.1', '--port', String(sshd.port), '--user', sshd.user, '--key-secret', 'lab-key', '--labels', 'web,eu']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('not pinned yet');

    const test = await cli(s, ['host', 'test', 'web-1']);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toContain(sshd.user);
    expect(test.stdout).toContain(`host key: ${sshd.fingerprint}`);

    const hosts = json<{ name: string; fingerprint: string; labels: string[] }[]>(await cli(s, ['host', 'list', '--json']));
    expect(hosts).toEqual([expect.objectContaining({ name: 'web-1', fingerprint: sshd.fingerprint, labels: ['web', 'eu'] })]);

    writeFileSync(
      path.join(s.dir, 'deploy.yaml'),
      'name: deploy\nruns-on: web-1\ninputs:\n  version: { default: "1.0" }\nsteps:\n  - run: echo "deploying ${{ inputs.version }} as $(whoami)"\n  - run: exit 4\n',
    );
    expect((await cli(s, ['job', 'apply', '-f', path.join(s.dir, 'deploy.yaml')])).code).toBe(0);
    const run = await cli(s, ['run', 'deploy', '--input', 'version=2.5', '--follow']);
    expect(run.stdout).toContain(`deploying 2.5 as ${sshd.user}`);
    expect(run.code).toBe(4);

    const secrets = await cli(s, ['secret', 'list', '--json']);
    expect(json<{ name: string }[]>(secrets).map((x) => x.name)).toEqual(['lab-key']);
    expect(secrets.stdout).not.toContain('OPENSSH');
    expect(server.output()).not.toContain('OPENSSH PRIVATE KEY');
  });

  it('refuses a host without a credential, and an unknown host, in one line', async () => {
    const none = await cli(s, ['host', 'add', 'bare', '--address', '127.0.0.1', '--user', 'x']);
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    const missing = await cli(s, ['host', 'test', 'nope']);
    expect(missing.code).toBe(3);
  });
});
