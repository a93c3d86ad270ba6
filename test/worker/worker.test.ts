import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { applyJob, enqueueRuns, runLogText, waitFor, waitForAll, waitForStatus } from '../support/fixtures.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/worker.ts';
import { runCancel } from '../../src/queue/cancel.ts';
import { runsEnqueue } from '../../src/queue/enqueue.ts';
import { createPool } from '../../src/db/pool.ts';
import { runStepsList } from '../../src/db/runs.ts';

let db: TestDatabase;
const home = mkdtempSync(path.join(tmpdir(), 'hostrun-worker-test-'));

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

function worker(opts: Partial<Parameters<typeof startWorker>[0]> = {}): Promise<WorkerHandle> {
  return startWorker({ pool: db.pool, databaseUrl: db.url, concurrency: 4, home, pollMs: 100, reapMs: 200, ...opts });
}

describe('worker', () => {
  it('many workers x many runs: every run reaches exactly one terminal state', async () => {
    keepDatabaseOnFailure();
    const job = await applyJob(db.pool, `name: many\nsteps:\n  - uses: noop\n`);
    const ids = await enqueueRuns(db.pool, job, 2000);
    const pools = Array.from({ length: 4 }, () => createPool(db.url, { max: 4 }));
    const workers = await Promise.all(pools.map((pool) => startWorker({ pool, databaseUrl: db.url, concurrency: 8, home, pollMs: 100 })));
    try {
      await waitForAll(db.url, db.pool, ids, 'succeeded');
      // Exactly the legal path, once, for every run: queued -> claimed -> running -> succeeded.
      const { rows } = await db.pool.query(
        `SELECT run_id, string_agg(coalesce(from_status::text, '-') || '>' || to_status, ',' ORDER BY id) AS path
           FROM hostrun.run_events WHERE run_id = ANY($1) GROUP BY run_id`,
        [ids],
      );
      expect(rows).toHaveLength(ids.length);
      const paths = new Set(rows.map((r) => r.path));
      expect([...paths]).toEqual(['->queued,queued>claimed,claimed>running,running>succeeded']);
      // Times in order, whether the start went out alone, with the claim, or with the outcome.
      const times = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM hostrun.runs WHERE id = ANY($1)
            AND NOT (created_at <= claimed_at AND claimed_at <= started_at AND started_at <= finished_at)`,
        [ids],
      );
      expect(times.rows[0]!.n).toBe(0);
      const perWorker = await db.pool.query(`SELECT count(DISTINCT worker_id) AS n FROM hostrun.runs WHERE id = ANY($1)`, [ids]);
      expect(perWorker.rows[0].n).toBeGreaterThan(1);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('claims higher priority first, then oldest first', async () => {
    const job = await applyJob(db.pool, `name: prio\nsteps:\n  - uses: noop\n`);
    const low = await enqueueRuns(db.pool, job, 3);
    const high = await runsEnqueue(db.pool, [{ projectId: job.projectId, job: job.job, inputs: {}, trigger: 'api', priority: 10 }]);
    const w = await worker({ concurrency: 1 });
    try {
      await waitForAll(db.url, db.pool, [...low, ...high], 'succeeded');
    } finally {
      await w.stop();
    }
    const { rows } = await db.pool.query(
      `SELECT run_id FROM hostrun.run_events WHERE run_id = ANY($1) AND to_status = 'claimed' ORDER BY id`,
      [[...low, ...high]],
    );
    expect(rows.map((r) => r.run_id)).toEqual([...high, ...low]);
  });

  it('runs steps in order with outputs, if: conditions and continue-on-error', async () => {
    const job = await applyJob(
      db.pool,
      `name: flow
inputs:
  who: { default: world }
steps:
  - id: first
    run: |
      echo "tag=v1.2" >> "$HOSTRUN_OUTPUT"
      echo "hello \${{ inputs.who }}"
  - id: flaky
    run: echo "about to fail" >&2; exit 7
    continue-on-error: true
  - id: second
    run: echo "tag is \${{ steps.first.outputs.tag }}"
  - id: broken
    run: exit 3
  - id: skipped
    run: echo never
  - id: cleanup
    if: always()
    run: echo cleaning up
  - id: onfail
    if: failure()
    run: echo a step failed
`,
    );
    const [id] = await enqueueRuns(db.pool, job, 1, { who: 'Ada' });
    const w = await worker();
    try {
      expect(await waitForStatus(db.url, db.pool, id!, ['failed'])).toBe('failed');
    } finally {
      await w.stop();
    }
    const run = (await db.pool.query(`SELECT exit_code, error, outputs FROM hostrun.runs WHERE id = $1`, [id])).rows[0];
    expect(run.exit_code).toBe(3);
    expect(run.error).toMatch(/step 4 \(.*\) failed with exit code 3/);
    expect(run.outputs.first).toEqual({ tag: 'v1.2' });
    const steps = (await runStepsList(db.pool, id!)).map(({ step_id, status, exit_code }) => ({ step_id, status, exit_code }));
    expect(steps).toEqual([
      { step_id: 'first', status: 'succeeded', exit_code: 0 },
      { step_id: 'flaky', status: 'failed', exit_code: 7 },
      { step_id: 'second', status: 'succeeded', exit_code: 0 },
      { step_id: 'broken', status: 'failed', exit_code: 3 },
      { step_id: 'skipped', status: 'skipped', exit_code: null },
      { step_id: 'cleanup', status: 'succeeded', exit_code: 0 },
      { step_id: 'onfail', status: 'succeeded', exit_code: 0 },
    ]);
    const logs = await db.pool.query(`SELECT seq, stream, text FROM hostrun.run_logs WHERE run_id = $1 ORDER BY seq`, [id]);
    const lines = logs.rows.flatMap((r) => r.text.split('\n').map((t: string) => `${r.stream}:${t}`));
    expect(lines).toContain('stdout:hello Ada');
    expect(lines).toContain('stderr:about to fail');
    expect(lines).toContain('stdout:tag is v1.2');
    expect(lines).not.toContain('stdout:never');
    expect(logs.rows.map((r) => r.seq)).toEqual(logs.rows.map((_, i) => i + 1));
  });

  it('a worker killed with SIGKILL mid-run: the run is re-queued and finished by another; late writes are fenced', async () => {
    keepDatabaseOnFailure();
    const job = await applyJob(
      db.pool,
      `name: crashy
retries: 1
steps:
  - run: |
      if [ "$HOSTRUN_RUN_ATTEMPT" = 1 ]; then echo first attempt; sleep 60; fi
      echo finished on attempt $HOSTRUN_RUN_ATTEMPT
`,
    );
    const [id] = await enqueueRuns(db.pool, job, 1);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-process.ts'], {
      env: { ...process.env, DATABASE_URL: db.url, HOSTRUN_HOME: home, WORKER_ID: 'doomed', LEASE_SECONDS: '2' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.on('exit', r));
    try {
      await waitFor(db.url, async () => (await runLogText(db.pool, id!)).includes('first attempt'), 30_000, 'first attempt to run');
      child.kill('SIGKILL');
      await exited;
      const rescuer = await worker({ leaseSeconds: 2 });
      try {
        expect(await waitForStatus(db.url, db.pool, id!, ['succeeded', 'failed'], 30_000)).toBe('succeeded');
      } finally {
        await rescuer.stop();
      }
    } finally {
      child.kill('SIGKILL');
    }
    const run = (await db.pool.query(`SELECT attempt, worker_id FROM hostrun.runs WHERE id = $1`, [id])).rows[0];
    expect(run.attempt).toBe(2);
    expect(run.worker_id).not.toBe('doomed');
    const lost = await db.pool.query(
      `SELECT message FROM hostrun.run_events WHERE run_id = $1 AND from_status = 'running' AND to_status = 'queued'`,
      [id],
    );
    expect(lost.rows[0].message).toMatch(/worker lost/);
    expect(await runLogText(db.pool, id!)).toContain('finished on attempt 2');

    // The dead worker's late writes, as it would have sent them for attempt 1: all refused.
    const complete = await db.pool.query(
      `SELECT * FROM hostrun.complete_runs('doomed', ARRAY[$1::bigint], ARRAY[1], ARRAY['failed']::hostrun.run_status[], ARRAY[1], ARRAY['late'], ARRAY[NULL::jsonb], ARRAY[NULL::float8])`,
      [id],
    );
    expect(complete.rowCount).toBe(0);
    const log = await db.pool.query(`SELECT hostrun.append_run_log($1, 1, 999, 0, 'stdout', 'zombie line') AS ok`, [id]);
    expect(log.rows[0].ok).toBe(false);
    const after = (await db.pool.query(`SELECT status, error FROM hostrun.runs WHERE id = $1`, [id])).rows[0];
    expect(after).toEqual({ status: 'succeeded', error: null });
  });

  it('a concurrency group of max 1 under 4 workers never runs two at once', async () => {
    const job = await applyJob(
      db.pool,
      `name: exclusive
inputs:
  device: { default: tv-1 }
concurrency: { group: "dev-\${{ inputs.device }}", max: 1 }
steps:
  - uses: sleep
    with: { ms: 20 }
`,
    );
    const ids = await enqueueRuns(db.pool, job, 30);
    const pools = Array.from({ length: 4 }, () => createPool(db.url, { max: 3 }));
    const workers = await Promise.all(pools.map((pool) => startWorker({ pool, databaseUrl: db.url, concurrency: 4, home, pollMs: 50 })));
    try {
      await waitForAll(db.url, db.pool, ids, 'succeeded');
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(pools.map((p) => p.end()));
    }
    const { rows } = await db.pool.query(
      `SELECT claimed_at, finished_at, worker_id FROM hostrun.runs WHERE id = ANY($1) ORDER BY claimed_at`,
      [ids],
    );
    for (let i = 1; i < rows.length; i++) expect(rows[i].claimed_at.getTime()).toBeGreaterThanOrEqual(rows[i - 1].finished_at.getTime());
  });

  it('cancel kills the whole process tree within 2 s', async () => {
    const marker = path.join(home, `cancel-${Date.now()}`);
    const job = await applyJob(
      db.pool,
      `name: long
steps:
  - run: |
      (sleep 1000 &)
      sleep 1000 &
      echo "$(ps -o pgid= $$ | tr -d ' ')" > ${marker}
      echo started
      sleep 1000
`,
    );
    const [id] = await enqueueRuns(db.pool, job, 1);
    const w = await worker();
    try {
      await waitFor(db.url, async () => (await runLogText(db.pool, id!)).includes('started'), 20_000, 'the long step to start');
      const pgid = Number(readFileSync(marker, 'utf8').trim());
      expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(3);
      const t0 = Date.now();
      expect(await runCancel(db.pool, id!)).toBe('running');
      expect(await waitForStatus(db.url, db.pool, id!, ['canceled'], 2000)).toBe('canceled');
      await waitFor(db.url, async () => groupMembers(pgid).length === 0, 2000 - (Date.now() - t0), 'the process group to be gone');
      const [step] = await runStepsList(db.pool, id!);
      expect(step!.status).toBe('canceled');
    } finally {
      await w.stop();
    }
  });

  it('a queued run is canceled at once and never runs', async () => {
    const job = await applyJob(db.pool, `name: never\nsteps:\n  - run: echo ran\n`);
    const [id] = await enqueueRuns(db.pool, job, 1);
    expect(await runCancel(db.pool, id!)).toBe('canceled');
    expect(await runCancel(db.pool, id!)).toBeNull();
  });

  it('step and job timeouts end the run as timed_out and kill the step', async () => {
    const stepJob = await applyJob(db.pool, `name: slow-step\nsteps:\n  - run: sleep 30\n    timeout-minutes: 0.01\n  - run: echo after\n`);
    const jobJob = await applyJob(db.pool, `name: slow-job\ntimeout-minutes: 0.01\nsteps:\n  - run: sleep 30\n`);
    const [a] = await enqueueRuns(db.pool, stepJob, 1);
    const [b] = await enqueueRuns(db.pool, jobJob, 1);
    const w = await worker();
    try {
      expect(await waitForStatus(db.url, db.pool, a!, ['timed_out', 'failed', 'succeeded'], 10_000)).toBe('timed_out');
      expect(await waitForStatus(db.url, db.pool, b!, ['timed_out', 'failed', 'succeeded'], 10_000)).toBe('timed_out');
    } finally {
      await w.stop();
    }
    const steps = await runStepsList(db.pool, a!);
    expect(steps.map((s) => s.status)).toEqual(['timed_out', 'skipped']);
  });

  it('retries failed runs with exponential backoff inside the jitter band', async () => {
    keepDatabaseOnFailure();
    const job = await applyJob(db.pool, `name: retrying\nretries: { max: 2, backoff: exponential, delay-seconds: 1 }\nsteps:\n  - run: exit 4\n`);
    const [id] = await enqueueRuns(db.pool, job, 1);
    // No poll to fall back on: the worker must wake for a retry when it is due.
    const w = await worker({ pollMs: 600_000 });
    try {
      expect(await waitForStatus(db.url, db.pool, id!, ['failed', 'succeeded'], 20_000)).toBe('failed');
    } finally {
      await w.stop();
    }
    const { rows } = await db.pool.query(
      `SELECT attempt, from_status, to_status, at FROM hostrun.run_events WHERE run_id = $1 ORDER BY id`,
      [id],
    );
    const requeued = rows.filter((r) => r.from_status === 'running' && r.to_status === 'queued');
    const claims = rows.filter((r) => r.to_status === 'claimed');
    expect(requeued).toHaveLength(2);
    expect(claims).toHaveLength(3);
    // Attempt n waits delay * 2^(n-1) ±20% after it failed, and is claimed when it is due.
    for (const [i, base] of [1, 2].entries()) {
      const waited = (claims[i + 1].at.getTime() - requeued[i].at.getTime()) / 1000;
      expect(waited).toBeGreaterThanOrEqual(base * 0.8);
      expect(waited).toBeLessThanOrEqual(base * 1.2 + 0.5);
    }
    const run = (await db.pool.query(`SELECT attempt, exit_code FROM hostrun.runs WHERE id = $1`, [id])).rows[0];
    expect(run).toEqual({ attempt: 3, exit_code: 4 });
  });

  it('stores large output in order, truncates past the per-run cap with a visible marker', async () => {
    const job = await applyJob(db.pool, `name: chatty\nsteps:\n  - run: seq 1 200000\n`);
    const [id] = await enqueueRuns(db.pool, job, 1);
    const w = await worker({ maxLogBytesPerRun: 500_000 });
    try {
      expect(await waitForStatus(db.url, db.pool, id!, ['succeeded', 'failed'])).toBe('succeeded');
    } finally {
      await w.stop();
    }
    const { rows } = await db.pool.query(`SELECT stream, text FROM hostrun.run_logs WHERE run_id = $1 ORDER BY seq`, [id]);
    // A row holds the whole lines that arrived together; together they are the output, in order.
    const out = rows.filter((r) => r.stream === 'stdout').flatMap((r) => r.text.split('\n'));
    expect(rows.length).toBeLessThan(out.length / 10);
    expect(out.slice(0, 3)).toEqual(['1', '2', '3']);
    expect(out.every((t, i) => t === String(i + 1))).toBe(true);
    expect(out.length).toBeLessThan(200000);
    expect(rows[rows.length - 1]).toMatchObject({ stream: 'system' });
    expect(rows[rows.length - 1].text).toMatch(/output truncated/);
  });

  it('graceful stop finishes short runs and hands long ones back to the queue', async () => {
    const quick = await applyJob(db.pool, `name: quick\nsteps:\n  - run: sleep 0.3; echo done\n`);
    const slow = await applyJob(db.pool, `name: slowpoke\nsteps:\n  - run: echo begun; sleep 30\n`);
    const [q] = await enqueueRuns(db.pool, quick, 1);
    const [s] = await enqueueRuns(db.pool, slow, 1);
    const w = await worker();
    await waitFor(db.url, async () => (await runLogText(db.pool, s!)).includes('begun'), 20_000, 'slow run to start');
    await w.stop(1500);
    expect((await db.pool.query(`SELECT status FROM hostrun.runs WHERE id = $1`, [q])).rows[0].status).toBe('succeeded');
    const back = (await db.pool.query(`SELECT status, attempt, max_attempts, worker_id FROM hostrun.runs WHERE id = $1`, [s])).rows[0];
    expect(back).toEqual({ status: 'queued', attempt: 1, max_attempts: 2, worker_id: null });
    // Someone else picks it up later; here we just cancel it to leave the queue clean.
    await runCancel(db.pool, s!);
  });

  it('the database refuses illegal status transitions', async () => {
    const job = await applyJob(db.pool, `name: strict\nsteps:\n  - uses: noop\n`);
    const [id] = await enqueueRuns(db.pool, job, 1);
    await expect(db.pool.query(`UPDATE hostrun.runs SET status = 'running' WHERE id = $1`, [id])).rejects.toThrow(/illegal run status transition/);
    await expect(db.pool.query(`UPDATE hostrun.runs SET status = 'succeeded' WHERE id = $1`, [id])).rejects.toThrow(/queued -> succeeded/);
    await runCancel(db.pool, id!);
    await expect(db.pool.query(`UPDATE hostrun.runs SET status = 'queued' WHERE id = $1`, [id])).rejects.toThrow(/canceled -> queued/);
  });

  it('records a claim-and-start and a start-and-finish written in one update as both of their transitions', async () => {
    // Labels no worker has: the worker running in this suite leaves the run alone.
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO hostrun.runs (project_id, job_name, job_version, trigger, inputs, target, labels, max_attempts, timeout_seconds)
       SELECT id, 'compound', 1, 'api', '{}', 'local', '{nobody-has-this}', 1, 60 FROM hostrun.projects WHERE slug = 'default' RETURNING id`,
    );
    const id = rows[0]!.id;
    const set = (sql: string) => db.pool.query(`UPDATE hostrun.runs SET ${sql} WHERE id = $1`, [id]);
    // Halves alone are not a compound: queued -> running without a new attempt, claimed -> succeeded without a start.
    await expect(set(`status = 'running', started_at = now()`)).rejects.toThrow(/queued -> running/);
    await set(`status = 'claimed', attempt = attempt + 1, worker_id = 'w', claimed_at = now()`);
    await expect(set(`status = 'succeeded'`)).rejects.toThrow(/claimed -> succeeded/);
    await set(`status = 'succeeded', started_at = now(), finished_at = now()`);
    const events = await db.pool.query<{ from_status: string | null; to_status: string }>(
      `SELECT from_status, to_status FROM hostrun.run_events WHERE run_id = $1 ORDER BY id`,
      [id],
    );
    expect(events.rows.map((e) => `${e.from_status ?? ''}->${e.to_status}`)).toEqual(['->queued', 'queued->claimed', 'claimed->running', 'running->succeeded']);
  });
});

/** Pids whose process group is `pgid` (from /proc, no ps parsing). */
function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = fields[0];
      if (Number(fields[2]) === pgid && state !== 'Z') pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

describe('artifacts and webhook payloads', () => {
  it('keeps files a run leaves in $HOSTRUN_ARTIFACTS with their sha256, and refuses names that climb out', async () => {
    const job = await applyJob(
      db.pool,
      `name: with-artifacts
steps:
  - run: |
      mkdir -p "$HOSTRUN_ARTIFACTS/reports"
      printf 'build ok\\n' > "$HOSTRUN_ARTIFACTS/reports/build.txt"
      printf 'x' > "$HOSTRUN_ARTIFACTS/bad name"
      ln -s /etc/passwd "$HOSTRUN_ARTIFACTS/passwd"
      exit 1
`,
    );
    const [id] = await enqueueRuns(db.pool, job, 1);
    const w = await worker();
    try {
      expect(await waitForStatus(db.url, db.pool, id!, ['failed', 'succeeded'])).toBe('failed');
    } finally {
      await w.stop();
    }
    const { rows } = await db.pool.query(`SELECT key, size, sha256, content, expires_at FROM hostrun.run_artifacts WHERE run_id = $1 ORDER BY key`, [id]);
    expect(rows.map((r) => r.key)).toEqual(['reports/build.txt']);
    expect(rows[0].content.toString()).toBe('build ok\n');
    expect(rows[0].sha256).toBe(createHash('sha256').update('build ok\n').digest('hex'));
    expect(rows[0].expires_at.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const log = await runLogText(db.pool, id!);
    expect(log).toContain('artifact bad name not kept');
    expect(log).not.toContain('root:');
  });

  it('passes a webhook body to the run as ${{ trigger.payload }}, as data', async () => {
    const job = await applyJob(db.pool, `name: hooked\nsteps:\n  - run: printf '%s|%s\\n' \${{ trigger.payload.ref }} "\${{ trigger.payload }}"\n`);
    const payload = { ref: 'refs/heads/main; touch /tmp/hostrun-pwned', n: 1 };
    const [id] = await runsEnqueue(db.pool, [{ projectId: job.projectId, job: job.job, inputs: {}, trigger: 'webhook' }]);
    await db.pool.query(`UPDATE hostrun.runs SET trigger_payload = $2 WHERE id = $1`, [id, JSON.stringify(payload)]);
    const w = await worker();
    try {
      expect(await waitForStatus(db.url, db.pool, id!, ['failed', 'succeeded'])).toBe('succeeded');
    } finally {
      await w.stop();
    }
    const [ref, body] = (await runLogText(db.pool, id!)).split('|');
    expect(ref).toBe(payload.ref);
    expect(JSON.parse(body!)).toEqual(payload);
  });
});
