import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { applyJob, enqueueRuns, runLogText, waitFor, waitForStatus } from '../support/fixtures.ts';
import type { TestSshd } from '../support/sshd.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/worker.ts';
import { parseSecretKey, sealSecret } from '../../src/secrets/crypto.ts';
import { secretSet } from '../../src/db/secrets.ts';
import { hostGetByName, hostUpsert, type HostInput } from '../../src/db/hosts.ts';
import { freePort } from '../../src/db/embedded.ts';
import { runCancel } from '../../src/queue/cancel.ts';
import { runsEnqueue } from '../../src/queue/enqueue.ts';
import type { JobSpec } from '../../src/core/types.ts';

// Remote execution against an SSH server on 127.0.0.1: OpenSSH's sshd (ssh.test.ts, when it
// can run here) and the in-process ssh2 server (ssh-fallback.test.ts), the same cases for both.
export function sshExecutorSuite(title: string, start: () => Promise<TestSshd>): void {
describe(title, () => {
  let db: TestDatabase;
  let sshd: TestSshd;
  let worker: WorkerHandle;
  let projectId: string;
  const secretKey = parseSecretKey(randomBytes(32).toString('hex'));
  const home = mkdtempSync(path.join(tmpdir(), 'hostrun-ssh-test-'));

  async function setSecret(name: string, value: string): Promise<void> {
    await secretSet(db.pool, projectId, name, sealSecret(secretKey, projectId, name, Buffer.from(value)));
  }

  async function addHost(name: string, h: Partial<HostInput> = {}): Promise<void> {
    await hostUpsert(db.pool, projectId, {
      name,
      address: '127.0.0.1',
      port: sshd.port,
      username: sshd.user,
      keySecret: 'ssh-key',
      hostKeyFingerprint: sshd.fingerprint,
      ...h,
    });
  }

  /** Applies a job, runs it once on the shared worker, returns the run's row and log. */
  async function runJob(yaml: string, inputs: Record<string, unknown> = {}, timeoutMs = 30_000) {
    const job = await applyJob(db.pool, yaml);
    const [id] = await enqueueRuns(db.pool, job, 1, inputs);
    await waitForStatus(db.url, db.pool, id!, ['succeeded', 'failed', 'timed_out', 'canceled'], timeoutMs);
    const run = (await db.pool.query(`SELECT id, status, exit_code, error, outputs FROM hostrun.runs WHERE id = $1`, [id])).rows[0];
    return { ...run, log: await runLogText(db.pool, id!) };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    sshd = await start();
    console.log(`[hostrun tests] ${title}: ${sshd.kind} on 127.0.0.1:${sshd.port}, steps run as ${sshd.user}`);
    projectId = (await db.pool.query(`SELECT id FROM hostrun.projects WHERE slug = 'default'`)).rows[0].id;
    await setSecret('ssh-key', sshd.privateKey);
    await setSecret('ssh-key-encrypted', sshd.encryptedKey);
    await setSecret('ssh-passphrase', sshd.passphrase);
    await setSecret('ssh-password', sshd.password);
    await addHost('lab');
    worker = await startWorker({
      pool: db.pool,
      databaseUrl: db.url,
      concurrency: 8,
      home,
      secretKey,
      pollMs: 100,
      killGraceMs: 1000,
      sshConnectTimeoutMs: 1500,
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await sshd?.stop();
    await db?.drop();
    rmSync(home, { recursive: true, force: true });
  });

  it('runs steps over SSH with key auth, as the host user, in a per-run directory that is removed afterwards', async () => {
    const r = await runJob(`name: remote-hello
runs-on: lab
inputs:
  who: { default: world }
steps:
  - run: whoami
  - run: echo "hello \${{ inputs.who }} in $PWD"
  - run: echo "dir=$HOSTRUN_WORKSPACE" >> "$HOSTRUN_OUTPUT"
    id: where
  - run: echo "failing on purpose" >&2; exit 5
`, { who: 'Ada' });
    expect(r.status).toBe('failed');
    expect(r.exit_code).toBe(5);
    expect(r.log).toContain(sshd.user);
    expect(r.log).toMatch(new RegExp(`hello Ada in ${sshd.home}/\\.hostrun/work/run-\\d+-1/workspace`));
    expect(r.log).toContain('failing on purpose');
    const dir = r.outputs.where.dir as string;
    expect(dir).toMatch(/\/\.hostrun\/work\/run-\d+-1\/workspace$/);
    expect(existsSync(path.dirname(dir))).toBe(false);
  });

  it('authenticates with a password and with a passphrase-protected key', async () => {
    await addHost('by-password', { keySecret: null, passwordSecret: 'ssh-password' });
    await addHost('by-passphrase', { keySecret: 'ssh-key-encrypted', passphraseSecret: 'ssh-passphrase' });
    for (const host of ['by-password', 'by-passphrase']) {
      const r = await runJob(`name: auth-${host}\nruns-on: ${host}\nsteps:\n  - run: echo "in as $(whoami)"\n`);
      expect(r.status).toBe('succeeded');
      expect(r.log).toContain(`in as ${sshd.user}`);
    }
  });

  it('refuses an unknown host key, pins it on a host test, and refuses a changed key naming both', async () => {
    keepDatabaseOnFailure();
    await addHost('fresh', { hostKeyFingerprint: null });
    const refused = await runJob(`name: to-fresh\nruns-on: fresh\nsteps:\n  - run: echo reached\n`);
    expect(refused.status).toBe('failed');
    expect(refused.error).toContain(`unknown host key ${sshd.fingerprint}`);
    expect(refused.log).not.toContain('reached');
    expect((await hostGetByName(db.pool, projectId, 'fresh'))!.host_key_fingerprint).toBeNull();

    // `hostrun host test fresh` is a host_test run: it may pin the key it sees.
    const spec: JobSpec = {
      name: 'host-test',
      runsOn: { kind: 'host', name: 'fresh' },
      inputs: {},
      env: {},
      schedules: [],
      webhook: false,
      retries: { max: 0, backoff: 'exponential', delaySeconds: 10 },
      priority: 0,
      steps: [{ id: 'whoami', name: 'whoami', run: 'whoami', env: {}, continueOnError: false }],
    };
    const [testRun] = await runsEnqueue(db.pool, [{ projectId, job: { id: null, name: 'host-test:fresh', version: 0, spec }, inputs: {}, trigger: 'host_test' }]);
    expect(await waitForStatus(db.url, db.pool, testRun!, ['succeeded', 'failed'])).toBe('succeeded');
    expect((await hostGetByName(db.pool, projectId, 'fresh'))!.host_key_fingerprint).toBe(sshd.fingerprint);
    expect((await runJob(`name: to-fresh\nruns-on: fresh\nsteps:\n  - run: echo reached\n`)).log).toContain('reached');

    // Trust on first use: pinned by the first run.
    await addHost('tofu', { hostKeyFingerprint: null, trustOnFirstUse: true });
    expect((await runJob(`name: to-tofu\nruns-on: tofu\nsteps:\n  - run: echo tofu\n`)).status).toBe('succeeded');
    expect((await hostGetByName(db.pool, projectId, 'tofu'))!.host_key_fingerprint).toBe(sshd.fingerprint);

    // The host is "reinstalled": a new key on the same address is always refused.
    const old = sshd.fingerprint;
    await sshd.rotateHostKey();
    for (const host of ['lab', 'tofu']) {
      const changed = await runJob(`name: after-rotate-${host}\nruns-on: ${host}\nsteps:\n  - run: echo should-not-run\n`);
      expect(changed.status).toBe('failed');
      expect(changed.error).toContain('HOST KEY CHANGED');
      expect(changed.error).toContain(old);
      expect(changed.error).toContain(sshd.fingerprint);
      expect(changed.log).not.toContain('should-not-run');
    }
    // Re-pin the hosts the later tests use.
    await addHost('lab');
  });

  it('fails clearly and quickly on refused, silent, unknown and wrongly authenticated hosts', async () => {
    const closed = await freePort();
    const silent: Server = createServer(() => {}); // accepts, never says a word
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const silentPort = (silent.address() as { port: number }).port;
    try {
      await addHost('refusing', { port: closed });
      await addHost('silent', { port: silentPort });
      await setSecret('wrong-key', sshd.encryptedKey.replace(/./g, (c) => c)); // encrypted, no passphrase given
      await addHost('wrong-auth', { keySecret: null, passwordSecret: 'wrong-key' });
      const cases: [string, RegExp][] = [
        ['refusing', /connection refused/],
        ['silent', /timed out after 2 s|timed out/],
        ['wrong-auth', /authentication failed/],
      ];
      for (const [host, message] of cases) {
        const started = Date.now();
        const r = await runJob(`name: fail-${host}\nruns-on: ${host}\nsteps:\n  - run: echo never\n`);
        expect(r.status).toBe('failed');
        expect(r.error).toMatch(message);
        expect(r.error.split('\n')).toHaveLength(1);
        expect(Date.now() - started).toBeLessThan(15_000);
      }
      const missing = await runJob(`name: fail-missing\nruns-on: not-a-host\nsteps:\n  - run: echo never\n`);
      expect(missing.error).toMatch(/host not-a-host is not defined/);
      const notFound = await runJob(`name: fail-cmd\nruns-on: lab\nsteps:\n  - run: definitely-not-a-command-xyz\n`);
      expect(notFound.exit_code).toBe(127);
      expect(notFound.log).toMatch(/definitely-not-a-command-xyz: command not found/);
      // The worker is still healthy after all of that.
      expect((await runJob(`name: after-failures\nruns-on: lab\nsteps:\n  - run: echo fine\n`)).status).toBe('succeeded');
    } finally {
      silent.close();
    }
  });

  it('ten steps share one TCP connection', async () => {
    const steps = Array.from({ length: 10 }, () => '  - run: echo "conn $SSH_CONNECTION"').join('\n');
    const r = await runJob(`name: ten-steps\nruns-on: lab\nsteps:\n${steps}\n`);
    expect(r.status).toBe('succeeded');
    const conns = new Set([...r.log.matchAll(/conn (\S+ \d+) /g)].map((m) => m[1]));
    expect(conns.size).toBe(1);
  });

  it('cancel and timeout leave no remote process behind', async () => {
    keepDatabaseOnFailure();
    const marker = `hostrun-sleep-${randomBytes(4).toString('hex')}`;
    const job = await applyJob(db.pool, `name: remote-long\nruns-on: lab\nsteps:\n  - run: |\n      (exec -a ${marker} sleep 1000 &)\n      exec -a ${marker} sleep 1000\n`);
    const [id] = await enqueueRuns(db.pool, job, 1);
    await waitFor(db.url, async () => processesOf(sshd.user, marker) >= 2, 20_000, 'the remote sleeps to start');
    expect(await runCancel(db.pool, id!)).toBe('running');
    expect(await waitForStatus(db.url, db.pool, id!, ['canceled'], 10_000)).toBe('canceled');
    await waitFor(db.url, async () => processesOf(sshd.user, marker) === 0, 5000, 'no remote sleep left');

    const timed = await runJob(`name: remote-timeout\nruns-on: lab\ntimeout-minutes: 0.02\nsteps:\n  - run: exec -a ${marker}-t sleep 1000\n`, {}, 20_000);
    expect(timed.status).toBe('timed_out');
    await waitFor(db.url, async () => processesOf(sshd.user, `${marker}-t`) === 0, 5000, 'no remote sleep left after the timeout');
  });

  it('streams 200 MB of remote output into the log with bounded memory', async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const r = await runJob(`name: remote-big\nruns-on: lab\nsteps:\n  - run: |\n      { yes "$(printf 'y%.0s' $(seq 1 99))" || true; } | head -c 200000000\n`, {}, 120_000);
      expect(r.status).toBe('succeeded');
    } finally {
      clearInterval(sampler);
    }
    const stored = (await db.pool.query(`SELECT sum(length(text) + 1) AS bytes FROM hostrun.run_logs l JOIN hostrun.runs r ON r.id = l.run_id WHERE r.job_name = 'remote-big' AND l.stream = 'stdout'`)).rows[0];
    // The default per-run cap (64 MiB) stores the start and marks the rest as truncated.
    expect(Number(stored.bytes)).toBeGreaterThan(60 * 1024 * 1024);
    expect(Number(stored.bytes)).toBeLessThanOrEqual(64 * 1024 * 1024);
    // Bounded means well under the 191 MiB the step prints: holding the stream would pass that.
    // RSS follows the collector's timing: alone this test grows the process by 111–134 MiB (the
    // same before and after the slab log writer), and up to 155 MiB with CI's other test files
    // running beside it, so the bound leaves room for that and no more.
    expect((peak - before) / 2 ** 20).toBeLessThan(180);
  });

  it('injection payloads arrive over SSH as data, byte for byte, and run nothing', async () => {
    const canary = path.join(mkdtempSync(path.join(tmpdir(), 'hostrun-canary-')), 'x');
    chmodSync(path.dirname(canary), 0o777);
    const payloads = [
      `$(touch ${canary})`,
      `\`touch ${canary}\``,
      `a; touch ${canary}`,
      `a && touch ${canary}`,
      `a | touch ${canary}`,
      `' ; touch ${canary} ; '`,
      `" ; touch ${canary} ; "`,
      `zzz";echo\${IFS}"hello";#`,
      `a\ntouch ${canary}`,
      '$HOME',
      '%PATH%',
      '!x',
      '\\',
      'A'.repeat(1024 * 1024),
    ];
    const job = await applyJob(db.pool, `name: remote-payload\nruns-on: lab\ninputs:\n  x: { default: "" }\nsteps:\n  - run: printf '%s' \${{ inputs.x }} | sha256sum\n`);
    for (const payload of payloads) {
      const [id] = await enqueueRuns(db.pool, job, 1, { x: payload });
      expect(await waitForStatus(db.url, db.pool, id!, ['succeeded', 'failed'], 30_000)).toBe('succeeded');
      const expected = execFileSync('sha256sum', { input: payload }).toString().split(' ')[0];
      expect((await runLogText(db.pool, id!)).split(' ')[0]).toBe(expected);
    }
    expect(existsSync(canary)).toBe(false);
  });

  it('masks secret values in logs, outputs and errors, in every form and across chunks', async () => {
    const secret = 'hunter2-Sup3r/Secret+value';
    await setSecret('API_TOKEN', secret);
    await setSecret('MULTI', 'first-line-secret\nsecond-line-secret');
    const r = await runJob(`name: remote-mask
runs-on: lab
steps:
  - id: leak
    env: { TOKEN: "\${{ secrets.API_TOKEN }}" }
    run: |
      echo "raw: \${{ secrets.API_TOKEN }}"
      echo "env: $TOKEN"
      printf 'b64: %s\\n' "$(printf '%s' "$TOKEN" | base64 -w0)"
      printf 'b64-mid: %s\\n' "$(printf 'xx%s' "$TOKEN" | base64 -w0)"
      printf 'json: %s\\n' "$(printf '%s' "$TOKEN" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))' 2>/dev/null || printf '"%s"' "$TOKEN")"
      printf 'url: %s\\n' "$(printf '%s' "$TOKEN" | sed 's#/#%2F#g; s#+#%2B#g')"
      printf 'split: %s' "\${TOKEN:0:9}"; sleep 0.3; printf '%s\\n' "\${TOKEN:9}"
      printf 'lines: %s\\n' "\${{ secrets.MULTI }}"
      echo "token=$TOKEN" >> "$HOSTRUN_OUTPUT"
      echo "fail: $TOKEN" >&2
      exit 3
`);
    expect(r.status).toBe('failed');
    const forbidden = [
      secret,
      Buffer.from(secret).toString('base64').slice(0, 20),
      encodeURIComponent(secret),
      'first-line-secret',
      'second-line-secret',
      'Sup3r/Secret+value',
    ];
    for (const text of [r.log, JSON.stringify(r.outputs), r.error ?? '']) {
      for (const f of forbidden) expect(text).not.toContain(f);
    }
    expect(r.log).toContain('raw: ***');
    expect(r.log).toContain('split: ***');
    expect(r.log).toContain('fail: ***');
    expect(r.outputs.leak.token).toBe('***');
  });

  it('checks out `repository:` from a bare repository before the steps', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'hostrun-git-'));
    chmodSync(base, 0o755);
    const bare = path.join(base, 'repo.git');
    const work = path.join(base, 'work');
    const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@localhost', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@localhost' } });
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', work]);
    writeFileSync(path.join(work, 'install.sh'), 'echo "installed $1"\n');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'first');
    git(work, 'push', '--quiet', bare, 'main');
    // Git refuses repositories owned by someone else: this one belongs to the user who clones it.
    execFileSync('chown', ['-R', sshd.user, base]);
    const r = await runJob(`name: remote-repo\nruns-on: lab\nrepository: { url: "file://${bare}", ref: main }\nsteps:\n  - run: bash install.sh tv-1\n  - run: git log --oneline | wc -l\n`);
    expect(r.log).toContain('installed tv-1');
    expect(r.status).toBe('succeeded');
    expect(r.log.trim().split('\n').pop()).toBe('1'); // a shallow clone: one commit
    rmSync(base, { recursive: true, force: true });
  });

  it('fans out to every host with the labels, at most max-parallel at once, and summarises them in the parent', async () => {
    keepDatabaseOnFailure();
    for (const name of ['web-a', 'web-b', 'web-c', 'web-d']) await addHost(name, { labels: ['web', 'eu'] });
    await addHost('web-broken', { labels: ['web'], port: await freePort() });
    await addHost('db-1', { labels: ['db'] });
    const r = await runJob(`name: fleet\nruns-on: { labels: [web] }\nstrategy: { max-parallel: 2 }\nsteps:\n  - run: echo "on $(hostname) as $(whoami)"; sleep 0.3\n`, {}, 60_000);
    expect(r.status).toBe('failed');
    expect(r.error).toBe('1 of 5 hosts failed: web-broken');
    const children = (await db.pool.query(
      `SELECT target, status, claimed_at, finished_at FROM hostrun.runs WHERE parent_run_id = $1 ORDER BY target`, [r.id],
    )).rows;
    expect(children.map((c) => [c.target, c.status])).toEqual([
      ['web-a', 'succeeded'], ['web-b', 'succeeded'], ['web-broken', 'failed'], ['web-c', 'succeeded'], ['web-d', 'succeeded'],
    ]);
    expect(Object.keys(r.outputs).sort()).toEqual(['web-a', 'web-b', 'web-broken', 'web-c', 'web-d']);
    // Never more than two children in flight at any moment.
    const edges = children.flatMap((c) => [[c.claimed_at.getTime(), 1], [c.finished_at.getTime(), -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let inFlight = 0;
    let most = 0;
    for (const [, d] of edges) most = Math.max(most, (inFlight += d));
    expect(most).toBe(2);

    const none = await runJob(`name: fleet-none\nruns-on: { labels: [nowhere] }\nsteps:\n  - run: echo never\n`);
    expect(none.status).toBe('failed');
    expect(none.error).toMatch(/no host in this project has the label nowhere/);
  });

  it('canceling a fanned-out run cancels its children, and the parent ends canceled', async () => {
    const job = await applyJob(db.pool, `name: fleet-long\nruns-on: { labels: [eu] }\nsteps:\n  - run: echo started; sleep 1000\n`);
    const [parent] = await enqueueRuns(db.pool, job, 1);
    await waitFor(db.url, async () => {
      const { rows } = await db.pool.query(`SELECT count(*) AS n FROM hostrun.runs WHERE parent_run_id = $1 AND status = 'running'`, [parent]);
      return rows[0].n === 4;
    }, 20_000, 'four children running');
    expect(await runCancel(db.pool, parent!)).toBe('running');
    expect(await waitForStatus(db.url, db.pool, parent!, ['canceled', 'failed', 'succeeded'], 15_000)).toBe('canceled');
    const { rows } = await db.pool.query(`SELECT DISTINCT status FROM hostrun.runs WHERE parent_run_id = $1`, [parent]);
    expect(rows).toEqual([{ status: 'canceled' }]);
  });

  it('runs the seed config shape unchanged against the host it names (rewritten to loopback)', async () => {
    // The example names a public address: the test points `host` at 127.0.0.1 and never
    // contacts anything else. A hosts row of that name supplies the port and the pinned key.
    await addHost('127.0.0.1', { keySecret: null });
    await setSecret('secret_key_ref', sshd.privateKey);
    const seed = {
      name: 'Test',
      host: '127.0.0.1',
      username: sshd.user,
      ssh_key: 'secret_key_ref',
      os: 'linux',
      steps: [{ run: 'whoami' }, { run: 'echo python install_tizen_native_app.py ${{ inputs.ip }} ${{ inputs.filepath }}' }],
      inputs: { ip: '192.168.1.84', filepath: 'tizen_native/app.tpk' },
      schedule: '0 */1 * * *',
    };
    const r = await runJob(JSON.stringify(seed), { ip: '10.1.2.3' });
    expect(r.status).toBe('succeeded');
    expect(r.log).toContain(sshd.user);
    expect(r.log).toContain('python install_tizen_native_app.py 10.1.2.3 tizen_native/app.tpk');
  });
});
}

/** Processes of `user` whose command line starts with `marker`. */
function processesOf(user: string, marker: string): number {
  try {
    return execFileSync('pgrep', ['-u', user, '-f', `^${marker}`]).toString().trim().split('\n').filter(Boolean).length;
  } catch {
    return 0; // pgrep exits 1 when nothing matches
  }
}
