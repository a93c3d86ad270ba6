import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tokenCreate } from '../../src/db/tokens.ts';
import { createApp } from '../../src/server/app.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { startSshd, type TestSshd } from '../support/sshd.ts';

// What the web UI's admin pages added to the API, in process: the dashboard report, and pinning
// a host key with a person in the loop (scan shows it, pin pins it only if it still matches, a
// changed key is refused naming both). The SSH server is real (OpenSSH as root, else ssh2's).

let db: TestDatabase;
let app: ReturnType<typeof createApp>;
let token: string;
let sshd: TestSshd;

type Json = Record<string, any>;

async function call(method: string, path: string, body?: unknown) {
  const res = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
}

/** Moves a queued run to a final status through the transitions the schema allows. */
async function finish(runId: number, status: 'succeeded' | 'failed' | 'canceled'): Promise<void> {
  if (status === 'canceled') {
    await db.pool.query(`UPDATE hostrun.runs SET status = 'canceled', finished_at = now() WHERE id = $1`, [runId]);
    return;
  }
  await db.pool.query(`UPDATE hostrun.runs SET status = 'claimed' WHERE id = $1`, [runId]);
  await db.pool.query(`UPDATE hostrun.runs SET status = 'running', started_at = now() WHERE id = $1`, [runId]);
  await db.pool.query(`UPDATE hostrun.runs SET status = $2, finished_at = now() WHERE id = $1`, [runId, status]);
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = createApp({ pool: db.pool });
  ({ token } = await tokenCreate(db.pool, { name: 'test admin', isSuperadmin: true }));
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

describe('GET /reports/dashboard', () => {
  it('a new project: zeros, no jobs, no rate', async () => {
    const r = await call('GET', '/api/v1/reports/dashboard');
    expect(r.status).toBe(200);
    expect(r.body.jobs).toBe(0);
    expect(r.body.success_rate).toBeNull();
    expect(r.body.by_status).toEqual({ queued: 0, claimed: 0, running: 0, succeeded: 0, failed: 0, timed_out: 0, canceled: 0 });
    expect(r.body.hours.length).toBeGreaterThanOrEqual(24);
    expect(r.body.recent_runs).toEqual([]);
  });

  it('counts the last 24 h by status and hour, ranks failing jobs, lists the next scheduled runs', async () => {
    const source = (name: string, schedule = '') =>
      `name: ${name}\nruns-on: local\n${schedule}steps:\n  - run: echo hi\n`;
    const created = await call('POST', '/api/v1/jobs', { source: source('nightly', 'on:\n  schedule:\n    - cron: "0 * * * *"\n      timezone: Europe/Berlin\n') });
    expect(created.status).toBe(201);
    expect((await call('POST', '/api/v1/jobs', { source: source('flaky') })).status).toBe(201);
    const ids: number[] = [];
    for (const job of ['nightly', 'nightly', 'flaky', 'flaky', 'flaky']) ids.push((await call('POST', `/api/v1/jobs/${job}/runs`, {})).body.id);
    await finish(ids[0]!, 'succeeded');
    await finish(ids[1]!, 'succeeded');
    await finish(ids[2]!, 'succeeded');
    await finish(ids[3]!, 'failed');
    // ids[4] stays queued

    const r = await call('GET', '/api/v1/reports/dashboard');
    expect(r.status).toBe(200);
    expect(r.body.by_status).toMatchObject({ succeeded: 3, failed: 1, queued: 1 });
    expect(r.body.success_rate).toBeCloseTo(0.75);
    const hourTotal = r.body.hours.reduce((n: number, h: Json) => n + h.succeeded + h.failed + h.other, 0);
    expect(hourTotal).toBe(5);
    expect(r.body.failing_jobs).toEqual([expect.objectContaining({ job_name: 'flaky', failed: 1, runs: 3, last_failed_run_id: ids[3], last_status: 'queued' })]);
    expect(r.body.next_runs).toEqual([expect.objectContaining({ job_name: 'nightly', description: expect.stringContaining('Europe/Berlin'), next_fire_at: expect.any(String) })]);
    expect(r.body.recent_runs.map((x: Json) => x.id)).toEqual([...ids].reverse());
    expect(r.body.jobs).toBe(2);
    expect(r.body.workers_online).toBe(0);
  });

  it('refuses unknown query parameters', async () => {
    expect((await call('GET', '/api/v1/reports/dashboard?window=3')).status).toBe(400);
  });
});

describe('host keys: scan, confirm, pin', () => {
  const host = () => ({ address: '127.0.0.1', port: sshd.port, username: sshd.user, key_secret: 'deploy_key' });

  it('scan shows the key without pinning it; pin pins the confirmed key', async () => {
    expect((await call('PUT', '/api/v1/hosts/box', host())).status).toBe(201);
    const scan = await call('POST', '/api/v1/hosts/box/scan');
    expect(scan.status).toBe(200);
    expect(scan.body).toEqual({ fingerprint: sshd.fingerprint, algorithm: expect.stringMatching(/^(ssh-|ecdsa-|rsa-)/), pinned: null, matches_pinned: null });
    expect((await call('GET', '/api/v1/hosts/box')).body.host.fingerprint).toBeNull();

    const pinned = await call('POST', '/api/v1/hosts/box/pin', { fingerprint: sshd.fingerprint });
    expect(pinned.status).toBe(200);
    expect(pinned.body.host.fingerprint).toBe(sshd.fingerprint);
    // Pinning the same key again changes nothing.
    expect((await call('POST', '/api/v1/hosts/box/pin', { fingerprint: sshd.fingerprint })).status).toBe(200);
    const again = await call('POST', '/api/v1/hosts/box/scan');
    expect(again.body).toMatchObject({ pinned: sshd.fingerprint, matches_pinned: true });
  });

  it('pins nothing when the host presents another key than the one confirmed', async () => {
    expect((await call('PUT', '/api/v1/hosts/other', host())).status).toBe(201);
    const wrong = 'SHA256:' + 'A'.repeat(43);
    const r = await call('POST', '/api/v1/hosts/other/pin', { fingerprint: wrong });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toContain(sshd.fingerprint);
    expect(r.body.error.message).toContain(wrong);
    expect((await call('GET', '/api/v1/hosts/other')).body.host.fingerprint).toBeNull();
  });

  it('refuses a changed key, naming both fingerprints, and keeps the old pin', async () => {
    const old = sshd.fingerprint;
    await sshd.rotateHostKey();
    expect(sshd.fingerprint).not.toBe(old);
    const scan = await call('POST', '/api/v1/hosts/box/scan');
    expect(scan.body).toMatchObject({ fingerprint: sshd.fingerprint, pinned: old, matches_pinned: false });
    const r = await call('POST', '/api/v1/hosts/box/pin', { fingerprint: sshd.fingerprint });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toContain('HOST KEY CHANGED');
    expect(r.body.error.message).toContain(old);
    expect(r.body.error.message).toContain(sshd.fingerprint);
    expect((await call('GET', '/api/v1/hosts/box')).body.host.fingerprint).toBe(old);
  });

  it('says in one line when the host does not answer (422, not the API being down)', async () => {
    expect((await call('PUT', '/api/v1/hosts/nothing', { ...host(), port: 1 })).status).toBe(201);
    const r = await call('POST', '/api/v1/hosts/nothing/scan');
    expect(r.status).toBe(422);
    expect(r.body.error.message).toMatch(/connection refused/);
  });

  it('rejects a malformed fingerprint and unknown keys', async () => {
    expect((await call('POST', '/api/v1/hosts/box/pin', { fingerprint: 'md5:aa' })).status).toBe(400);
    expect((await call('POST', '/api/v1/hosts/box/pin', { fingerprint: sshd.fingerprint, force: true })).status).toBe(400);
  });

  it('lists hosts with their last test', async () => {
    const test = await call('POST', '/api/v1/hosts/box/test');
    expect(test.status).toBe(201);
    const list = await call('GET', '/api/v1/hosts');
    const box = list.body.hosts.find((h: Json) => h.name === 'box');
    expect(box.last_test).toMatchObject({ run_id: test.body.run_id, status: 'queued' });
    expect(list.body.hosts.find((h: Json) => h.name === 'other').last_test).toBeNull();
  });
});
