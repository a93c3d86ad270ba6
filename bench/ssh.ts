// SSH benchmark (npm run bench:ssh): BENCH_SSH_RUNS (100) one-step runs (`true`) on a host on
// the loopback sshd, one worker at concurrency 8, against a baseline loop of the same number of
// `ssh host true` invocations (OpenSSH client, key auth, host key verified). Reports both wall
// times and their ratio, each the median of BENCH_REPEATS (3). Needs root and openssh-server.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseJobSpec } from '../src/core/spec.ts';
import { jobApply } from '../src/db/jobs.ts';
import { projectIdBySlug } from '../src/db/projects.ts';
import { hostUpsert } from '../src/db/hosts.ts';
import { secretSet } from '../src/db/secrets.ts';
import { parseSecretKey, sealSecret } from '../src/secrets/crypto.ts';
import { runsEnqueue } from '../src/queue/enqueue.ts';
import { startWorker } from '../src/worker/worker.ts';
import { sshdUnavailable, startSshd } from '../test/support/sshd.ts';
import { median, openBenchDatabase } from './bench-db.ts';

const RUNS = Number(process.env.BENCH_SSH_RUNS ?? 100);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

const why = sshdUnavailable();
if (why) {
  console.log(`bench:ssh cannot run here: ${why}`);
  process.exit(1);
}
const sshd = await startSshd();
const db = await openBenchDatabase('hostrun_bench_ssh');
try {
  const key = parseSecretKey(randomBytes(32).toString('hex'));
  const projectId = (await projectIdBySlug(db.pool, 'default'))!;
  await secretSet(db.pool, projectId, 'key', sealSecret(key, projectId, 'key', Buffer.from(sshd.privateKey)));
  await hostUpsert(db.pool, projectId, { name: 'lab', address: '127.0.0.1', port: sshd.port, username: sshd.user, keySecret: 'key', hostKeyFingerprint: sshd.fingerprint });
  const source = 'name: ssh-true\nruns-on: lab\nsteps:\n  - run: "true"\n';
  const spec = parseJobSpec(source);
  const { job } = await jobApply(db.pool, { projectId, spec, source });
  const request = { projectId, job: { id: job.id, name: job.name, version: job.version, spec }, inputs: {}, trigger: 'api' as const };

  const keyFile = path.join(db.home, 'id');
  writeFileSync(keyFile, sshd.privateKey, { mode: 0o600 });
  const knownHosts = path.join(db.home, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine + '\n');
  const sshArgs = ['-i', keyFile, '-p', String(sshd.port), '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `${sshd.user}@127.0.0.1`, 'true'];

  const hostrunTimes: number[] = [];
  const sshTimes: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    // Hostrun: a fresh worker (so the first connection is part of the time), all runs queued up front.
    await db.pool.query('TRUNCATE hostrun.runs, hostrun.run_queue, hostrun.run_leases, hostrun.run_logs, hostrun.run_events CASCADE');
    await runsEnqueue(db.pool, Array.from({ length: RUNS }, () => request));
    const t0 = performance.now();
    const worker = await startWorker({ pool: db.pool, databaseUrl: db.url, concurrency: 8, home: db.home, secretKey: key, pollMs: 500 });
    for (;;) {
      const { rows } = await db.pool.query<{ left: number; failed: number }>(
        `SELECT count(*) FILTER (WHERE status NOT IN ('succeeded', 'failed')) AS left, count(*) FILTER (WHERE status = 'failed') AS failed FROM hostrun.runs`,
      );
      if (rows[0]!.failed > 0) {
        const errors = await db.pool.query(`SELECT DISTINCT error FROM hostrun.runs WHERE status = 'failed'`);
        throw new Error(`${rows[0]!.failed} runs failed: ${errors.rows.map((r) => r.error).join("; ")}`);
      }
      if (rows[0]!.left === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    hostrunTimes.push(performance.now() - t0);
    await worker.stop();

    const t1 = performance.now();
    for (let j = 0; j < RUNS; j++) execFileSync('ssh', sshArgs, { stdio: ['ignore', 'ignore', 'inherit'] });
    sshTimes.push(performance.now() - t1);
    console.log(`repeat ${i + 1}: hostrun ${(hostrunTimes[i]! / 1000).toFixed(2)} s, ssh loop ${(sshTimes[i]! / 1000).toFixed(2)} s`);
  }
  const h = median(hostrunTimes) / 1000;
  const s = median(sshTimes) / 1000;
  console.log(`\n${RUNS} runs of \`true\` on the loopback sshd: Hostrun (1 worker x 8) ${h.toFixed(2)} s, \`ssh host true\` loop ${s.toFixed(2)} s; Hostrun takes ${(h / s).toFixed(2)}x the loop's time (${(s / h).toFixed(1)}x faster)`);
} finally {
  await db.close();
  await sshd.stop();
}
