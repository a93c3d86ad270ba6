import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
// The package's own name: what `import { HostrunClient } from 'hostrun'` resolves to (package.json "exports").
import { HostrunClient, HostrunError, type LogLine } from 'hostrun';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { scratch, startServer, type Scratch, type Server } from '../cli/harness.ts';

// The TypeScript client against a real `hostrun start`: typed calls, waiting for a run, the
// live log iterator, errors as HostrunErrors with codes, and the generic request escape hatch.

let db: TestDatabase;
let s: Scratch;
let server: Server;
let client: HostrunClient;

beforeAll(async () => {
  db = await createTestDatabase();
  s = await scratch('hostrun-client-');
  server = await startServer(s, db.url, { scheduler: false });
  const token = readFileSync(path.join(s.home, 'admin-token'), 'utf8').trim();
  client = new HostrunClient({ url: s.url, token });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
  if (s) rmSync(s.dir, { recursive: true, force: true });
});

beforeEach(() => keepDatabaseOnFailure());

const COUNTER = `name: counter
inputs:
  n: { type: number, default: 3 }
on:
  schedule: [{ cron: "0 5 * * *", timezone: UTC }]
steps:
  - run: |
      for i in $(seq 1 \${{ inputs.n }}); do echo "line $i"; sleep 0.2; done
      echo "to stderr" >&2
`;

describe('HostrunClient', () => {
  it('applies a job, lists and shows it', async () => {
    const applied = await client.jobs.apply(COUNTER);
    expect(applied).toMatchObject({ created: true, job: { name: 'counter', version: 1 } });
    expect((await client.jobs.list()).map((j) => j.name)).toEqual(['counter']);
    const job = await client.jobs.get('counter');
    expect(job.schedules).toHaveLength(1);
    expect(await client.jobs.resolveName(job.id)).toBe('counter');
  });

  it('runs a job, streams its output live and waits for the end', async () => {
    const run = await client.jobs.run('counter', { inputs: { n: 4 } });
    const lines: LogLine[] = [];
    const stream = client.runs.stream(run.id);
    let next = await stream.next();
    for (; !next.done; next = await stream.next()) lines.push(next.value);
    expect(next.value).toEqual({ status: 'succeeded', exit_code: 0, error: null });
    const text = lines.filter((l) => l.stream !== 'system').map((l) => l.text).join('\n');
    expect(text).toContain('line 1\nline 2\nline 3\nline 4');
    expect(lines.some((l) => l.stream === 'stderr' && l.text === 'to stderr')).toBe(true);
    // The sequence numbers only grow: resuming from one (after=) never repeats a line.
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((a, b) => a - b));

    const done = await client.runs.wait(run.id);
    expect(done).toMatchObject({ status: 'succeeded', exit_code: 0, inputs: { n: 4 } });
    expect(done.steps).toHaveLength(1);
  });

  it('for await over the stream gives the lines; wait reports progress and the outcome', async () => {
    const run = await client.jobs.run('counter');
    const seen: string[] = [];
    for await (const line of client.runs.stream(run.id)) if (line.stream === 'stdout') seen.push(line.text);
    expect(seen.join('\n')).toContain('line 3');
    const statuses: string[] = [];
    const finished = await client.jobs.runAndWait('counter', { inputs: { n: 1 }, onPoll: (r) => statuses.push(r.status) });
    expect(finished.status).toBe('succeeded');
    expect(statuses.at(-1)).toBe('succeeded');
  });

  it('lists runs with filters, reads logs and events, cancels', async () => {
    const page = await client.runs.list({ job: 'counter', status: ['succeeded'], limit: 2 });
    expect(page.runs).toHaveLength(2);
    expect(page.next_cursor).toEqual(expect.any(String));
    const logs = await client.runs.logs(page.runs[0]!.id);
    expect(logs.lines.length).toBeGreaterThan(0);
    const events = await client.runs.events(page.runs[0]!.id);
    expect(events.events.map((e) => e.to_status)).toEqual(['queued', 'claimed', 'running', 'succeeded']);

    const long = await client.jobs.run('counter', { inputs: { n: 200 } });
    await client.runs.cancel(long.id);
    expect((await client.runs.wait(long.id)).status).toBe('canceled');
  });

  it('schedules: list, pause, resume', async () => {
    const [schedule] = await client.schedules.list({ job: 'counter' });
    expect(schedule).toMatchObject({ job_name: 'counter', cron: '0 5 * * *', enabled: true });
    expect((await client.schedules.pause(schedule!.id)).enabled).toBe(false);
    expect((await client.schedules.resume(schedule!.id)).enabled).toBe(true);
  });

  it('reports: status, per job, summary, export', async () => {
    const status = await client.reports.status();
    expect(status.workers).toHaveLength(1);
    const report = await client.reports.job('counter');
    expect(report.summary.succeeded).toBe(3);
    expect(report.summary.canceled).toBe(1);
    expect((await client.reports.jobs()).map((j) => j.job_name)).toEqual(['counter']);
    expect((await client.reports.summary()).busiest_jobs[0]?.job_name).toBe('counter');
    const { csv } = await client.reports.exportCsv({ job: 'counter' });
    expect(csv.split('\r\n')[0]).toMatch(/^id,job_name,/);
  });

  it('errors are HostrunErrors with stable codes', async () => {
    const notFound = await client.jobs.get('nope').catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(HostrunError);
    expect(notFound).toMatchObject({ code: 'not_found', message: 'job "nope" not found' });
    await expect(client.jobs.run('counter', { inputs: { n: 'many' } })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(new HostrunClient({ url: s.url, token: 'wrong' }).jobs.list()).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(new HostrunClient({ url: 'http://127.0.0.1:1' }).jobs.list()).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('request() reaches any endpoint; hosts go to /api/v1/hosts', async () => {
    expect(await client.request('GET', '/readyz')).toMatchObject({ status: 'ready' });
    const jobs = await client.request<{ jobs: { name: string }[] }>('GET', '/api/v1/jobs');
    expect(jobs.jobs[0]?.name).toBe('counter');
    // Hosts arrive with SSH targets: either the list, or the server saying it has no such route.
    const hosts = await client.hosts.list().catch((e: HostrunError) => e);
    if (hosts instanceof HostrunError) expect(hosts.message).toBe('no route for GET /api/v1/hosts');
    else expect(Array.isArray(hosts)).toBe(true);
  });
});
