import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tokenCreate } from '../../src/db/tokens.ts';
import { createApp } from '../../src/server/app.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';

// What the web UI's job pages read beyond the CLI's needs: a dry-run validation of a spec
// (errors at their line while typing), schedules in words on the job list, and the next five
// fire times of each schedule on the job page.

let db: TestDatabase;
let app: ReturnType<typeof createApp>;
let token: string;

type Json = Record<string, any>;

async function call(method: string, path: string, body?: unknown, bearer = token) {
  const res = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
}

const HOURLY = `name: hourly
description: Runs every hour
inputs:
  ip:
    default: 192.168.1.84
    pattern: '^[0-9.]+$'
on:
  schedule:
    - cron: "0 */1 * * *"
      timezone: Europe/Berlin
steps:
  - run: echo "\${{ inputs.ip }}"
`;

beforeAll(async () => {
  db = await createTestDatabase();
  app = createApp({ pool: db.pool });
  ({ token } = await tokenCreate(db.pool, { name: 'test admin', isSuperadmin: true }));
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

describe('POST /api/v1/jobs/validate', () => {
  it('answers a valid spec with a summary, schedules in words, and saves nothing', async () => {
    const res = await call('POST', '/api/v1/jobs/validate', { source: HOURLY });
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(true);
    expect(res.body.errors).toEqual([]);
    expect(res.body.spec).toMatchObject({
      name: 'hourly',
      description: 'Runs every hour',
      runs_on: 'local',
      inputs: { ip: { type: 'string', default: '192.168.1.84', pattern: '^[0-9.]+$' } },
      steps: [{ id: 'step-1' }],
      schedules: [{ description: 'Every hour, Europe/Berlin' }],
    });
    expect(res.body.spec.schedules[0].next_fire_times).toHaveLength(3);
    expect((await call('GET', '/api/v1/jobs/hourly')).status).toBe(404);
  });

  it('gives every problem with its path, line and column', async () => {
    const source = HOURLY.replace('  - run: echo', '  - runn: echo').replace('description:', 'descripton:');
    const res = await call('POST', '/api/v1/jobs/validate', { source });
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.spec).toBeUndefined();
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'descripton', line: 2, column: 1 }),
        expect.objectContaining({ path: 'steps[0].runn', message: 'unknown key "runn"', line: 12, column: 5 }),
      ]),
    );
  });

  it('reports YAML syntax errors at their line', async () => {
    const res = await call('POST', '/api/v1/jobs/validate', { source: 'name: x\nsteps:\n  - run: [unclosed\n' });
    expect(res.body.valid).toBe(false);
    expect(res.body.errors[0]).toMatchObject({ path: '', message: expect.stringMatching(/^YAML syntax/), line: expect.any(Number) });
  });

  it('checks cron expressions the way an apply does, pointing at the cron', async () => {
    const source = HOURLY.replace('"0 */1 * * *"', '"0 0 30 2 *"');
    const res = await call('POST', '/api/v1/jobs/validate', { source });
    expect(res.body).toMatchObject({ valid: false, errors: [{ path: 'on.schedule[0].cron', message: expect.stringContaining('never fires'), line: 9, column: 13 }] });
    // The apply refuses it too.
    expect((await call('POST', '/api/v1/jobs', { source })).status).toBe(400);
  });

  it('rejects unknown body keys, and refuses viewers', async () => {
    expect((await call('POST', '/api/v1/jobs/validate', { source: HOURLY, save: true })).status).toBe(400);
    const viewer = await call('POST', '/api/v1/tokens', { name: 'viewer', role: 'viewer' });
    const refused = await call('POST', '/api/v1/jobs/validate', { source: HOURLY }, viewer.body.token);
    expect(refused.status).toBe(403);
  });
});

describe('schedules on the job list and the job page', () => {
  it('lists each job with its schedules in words, and shows the next five fire times', async () => {
    expect((await call('POST', '/api/v1/jobs', { source: HOURLY })).status).toBe(201);
    expect((await call('POST', '/api/v1/jobs', { source: 'name: plain\nsteps:\n  - run: "true"\n' })).status).toBe(201);

    const list = await call('GET', '/api/v1/jobs');
    const hourly = list.body.jobs.find((j: Json) => j.name === 'hourly');
    expect(hourly.schedules).toEqual([{ id: expect.any(String), description: 'Every hour, Europe/Berlin', enabled: true, next_fire_at: hourly.next_fire_at }]);
    expect(list.body.jobs.find((j: Json) => j.name === 'plain').schedules).toEqual([]);

    const job = await call('GET', '/api/v1/jobs/hourly');
    const times: string[] = job.body.schedules[0].next_fire_times;
    expect(times).toHaveLength(5);
    expect(times[0]).toBe(job.body.schedules[0].next_fire_at);
    for (let i = 1; i < times.length; i++) expect(Date.parse(times[i]!) - Date.parse(times[i - 1]!)).toBe(3_600_000);

    // A disabled job's schedules do not fire: no fire times to show.
    await call('POST', '/api/v1/jobs/hourly/disable');
    expect((await call('GET', '/api/v1/jobs/hourly')).body.schedules[0].next_fire_times).toEqual([]);
  });
});
