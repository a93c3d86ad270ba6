import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { projectCreate } from '../../src/db/projects.ts';
import { runsListJson } from '../../src/db/runs.ts';
import { tokenCreate } from '../../src/db/tokens.ts';
import { createApp } from '../../src/server/app.ts';
import { RunsPageCache } from '../../src/server/runs-routes.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { applyJob, enqueueRuns, type AppliedJob } from '../support/fixtures.ts';

// GET /api/v1/runs answers an unchanged page with the bytes it built last time (runs-routes.ts,
// RunsPageCache). What a client must never notice: a run that changed, appeared or went away
// shows at once, and a page is never served to another project or another filter.

let db: TestDatabase;
let app: ReturnType<typeof createApp>;
let job: AppliedJob;
let token: string;

beforeAll(async () => {
  db = await createTestDatabase();
  app = createApp({ pool: db.pool, webUi: false });
  job = await applyJob(db.pool, `name: cached\nsteps:\n  - uses: noop\n`);
  await enqueueRuns(db.pool, job, 3);
  token = (await tokenCreate(db.pool, { name: 'viewer', projectId: job.projectId, role: 'viewer' })).token;
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

async function list(query: string, as = token): Promise<string> {
  const res = await app.request(`/api/v1/runs?${query}`, { headers: { authorization: `Bearer ${as}` } });
  expect(res.status).toBe(200);
  return res.text();
}

/** The answer built from scratch, as the route writes it. */
async function fresh(limit: number): Promise<string> {
  const page = await runsListJson(db.pool, { projectId: job.projectId, limit });
  const cursor = page.nextBeforeId === null ? null : Buffer.from(`runs:${page.nextBeforeId}`).toString('base64url');
  return `{"runs":${page.json},"next_cursor":${JSON.stringify(cursor)}}`;
}

describe('GET /api/v1/runs, asked again', () => {
  it('shows a listed run that changed, a new run and a deleted one at once', async () => {
    const first = await list('limit=2');
    expect(await list('limit=2')).toBe(first);
    const [newest] = JSON.parse(first).runs as { id: number }[];

    await db.pool.query(`UPDATE hostrun.runs SET error = 'changed', priority = 5 WHERE id = $1`, [newest!.id]);
    const changed = await list('limit=2');
    expect(JSON.parse(changed).runs[0]).toMatchObject({ id: newest!.id, error: 'changed', priority: 5 });
    expect(changed).toBe(await fresh(2));

    const [added] = await enqueueRuns(db.pool, job, 1);
    const withNew = await list('limit=2');
    expect(JSON.parse(withNew).runs.map((r: { id: number }) => r.id)).toEqual([added, newest!.id]);
    expect(withNew).toBe(await fresh(2));

    await db.pool.query(`DELETE FROM hostrun.runs WHERE id = $1`, [added]);
    expect(await list('limit=2')).toBe(changed);
  });

  it('a change to the extra run that decides next_cursor shows too', async () => {
    const all = JSON.parse(await list('limit=50')).runs as { id: number }[];
    const limit = all.length - 1;
    expect(JSON.parse(await list(`limit=${limit}`)).next_cursor).not.toBeNull();
    // The oldest run (the one beyond the page) goes away: now this page is the last.
    await db.pool.query(`DELETE FROM hostrun.runs WHERE id = $1`, [all.at(-1)!.id]);
    expect(JSON.parse(await list(`limit=${limit}`)).next_cursor).toBeNull();
  });

  it('requests in flight together each see every change committed before they were sent', async () => {
    const [newest] = JSON.parse(await list('limit=3')).runs as { id: number }[];
    for (let round = 1; round <= 5; round++) {
      // Requests still running from the previous round may share builds with each other, never
      // with these: a build they share began after they were sent.
      const before = Array.from({ length: 5 }, () => list('limit=3'));
      await db.pool.query(`UPDATE hostrun.runs SET error = $2 WHERE id = $1`, [newest!.id, `round ${round}`]);
      const after = await Promise.all(Array.from({ length: 10 }, () => list('limit=3')));
      for (const body of after) expect(JSON.parse(body).runs[0]).toMatchObject({ id: newest!.id, error: `round ${round}` });
      await Promise.all(before);
    }
  });

  it('never serves one project or filter the page of another', async () => {
    const other = (await projectCreate(db.pool, { slug: 'other', name: 'Other' }))!.id;
    const otherToken = (await tokenCreate(db.pool, { name: 'other-viewer', projectId: other, role: 'viewer' })).token;
    expect(JSON.parse(await list('limit=2')).runs).toHaveLength(2);
    expect(await list('limit=2', otherToken)).toBe('{"runs":[],"next_cursor":null}');
    expect(JSON.parse(await list('limit=2&status=failed')).runs).toEqual([]);
    expect(JSON.parse(await list('limit=1')).runs).toHaveLength(1);
  });
});

describe('RunsPageCache', () => {
  const bytes = (text: string) => new Uint8Array(Buffer.from(text));

  it('shares a build only with requests that arrived before it began', async () => {
    const pages = new RunsPageCache();
    let builds = 0;
    const releases: (() => void)[] = [];
    const build = () => {
      builds++;
      const n = builds;
      return new Promise<{ versions: string; body: Uint8Array<ArrayBuffer> }>((resolve) => releases.push(() => resolve({ versions: `v${n}`, body: bytes(`page ${n}`) })));
    };
    const versions = async () => 'never the same';

    const earlyArrival = performance.now();
    const first = pages.page('k', earlyArrival, versions, build);
    // Arrived before the first build began: may take its result.
    const early = pages.page('k', earlyArrival, versions, build);
    // Arrived after it began: a change committed meanwhile could be missing from it.
    const late = pages.page('k', performance.now() + 1, versions, build);
    expect(builds).toBe(2);
    releases.forEach((release) => release());
    expect(Buffer.from(await first).toString()).toBe('page 1');
    expect(Buffer.from(await early).toString()).toBe('page 1');
    expect(Buffer.from(await late).toString()).toBe('page 2');
  });

  it('answers from the cache while the versions are the same, and builds when they differ', async () => {
    const pages = new RunsPageCache();
    let current = 'a';
    let builds = 0;
    const build = async () => ({ versions: current, body: bytes(`built ${++builds} at ${current}`) });
    const ask = async () => Buffer.from(await pages.page('k', performance.now(), async () => current, build)).toString();
    expect(await ask()).toBe('built 1 at a');
    expect(await ask()).toBe('built 1 at a');
    current = 'b';
    expect(await ask()).toBe('built 2 at b');
    expect(await ask()).toBe('built 2 at b');
  });
});
