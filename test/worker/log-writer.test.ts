import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';
import { applyJob, enqueueRuns } from '../support/fixtures.ts';
import { runsClaim, workerRegister } from '../../src/queue/protocol.ts';
import { runLogsAfter } from '../../src/db/runs.ts';
import { LogWriter, RunLog } from '../../src/worker/log-writer.ts';

// The log writer against a real database, without a worker around it: a run is claimed by
// hand and output goes straight into LogWriter, so what is stored can be compared with what
// was written byte for byte, and a reader can watch the rows as they become visible.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await workerRegister(db.pool, { id: 'log-writer-test', kind: 'worker', hostname: 'test', pid: 1, labels: [], concurrency: 10, version: 'test' });
});
afterAll(async () => {
  await db.drop();
});

/** A run held by this file's worker id, as a worker holds it while executing. */
async function claimedRun(): Promise<{ id: number; attempt: number }> {
  const job = await applyJob(db.pool, `name: logs-${Math.random().toString(36).slice(2)}\nsteps:\n  - run: "true"\n`);
  const [id] = await enqueueRuns(db.pool, job, 1);
  const claimed = await runsClaim(db.pool, { workerId: 'log-writer-test', labels: [], limit: 10, leaseSeconds: 600, start: 10 });
  const run = claimed.find((r) => r.id === id)!;
  return { id: run.id, attempt: run.attempt };
}

async function storedRows(runId: number): Promise<{ seq: number; stream: string; text: string }[]> {
  const { rows } = await db.pool.query(`SELECT seq, stream, text FROM hostrun.run_logs WHERE run_id = $1 ORDER BY seq`, [runId]);
  return rows;
}

/** Writes `chunks` as a step's stdout, pausing when the writer says so, and waits until stored. */
async function writeAll(writer: LogWriter, log: RunLog, chunks: Buffer[]): Promise<void> {
  for (const chunk of chunks) await writer.write(log, 0, 'stdout', chunk);
  writer.endStep(log, 0);
  await writer.drainRun(log);
}

describe('log writer', () => {
  it('a reader following a chatty run never sees a later row before an earlier one', async () => {
    keepDatabaseOnFailure();
    const run = await claimedRun();
    const writer = new LogWriter(db.pool, { maxRunBytes: 1024 ** 3, maxRowChars: 4096 });
    const log = new RunLog(run.id, run.attempt, 0);
    // ~24 MiB in 64 KiB chunks: a dozen flushes, two of them in flight at a time.
    const line = (i: number) => `${String(i).padStart(8, '0')} ${'x'.repeat(90)}\n`;
    const chunks: Buffer[] = [];
    for (let i = 0; i < 250_000; i += 650) {
      const n = Math.min(650, 250_000 - i);
      chunks.push(Buffer.from(Array.from({ length: n }, (_, j) => line(i + j)).join('')));
    }
    // The log stream's own read (`seq > after`, src/server/log-stream.ts) in a loop.
    let after = 0;
    let done = false;
    const gaps: string[] = [];
    const readNew = async (): Promise<number> => {
      const rows = await runLogsAfter(db.pool, run.id, after, 1000);
      for (const row of rows) {
        if (row.seq !== after + 1) gaps.push(`read ${row.seq} after ${after}`);
        after = row.seq;
      }
      return rows.length;
    };
    const reader = (async () => {
      while (!done) await readNew();
      while ((await readNew()) > 0);
    })();
    await writeAll(writer, log, chunks);
    done = true;
    await reader;
    expect(gaps).toEqual([]);
    const rows = await storedRows(run.id);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    const out = rows.map((r) => r.text).join('\n').split('\n');
    expect(out).toHaveLength(250_000);
    expect(out.every((l, i) => l === line(i).slice(0, -1))).toBe(true);
  });

  it('stores text exactly: multi-byte characters split across chunks, NUL, masked secrets, a row longer than a buffer', async () => {
    keepDatabaseOnFailure();
    const run = await claimedRun();
    const writer = new LogWriter(db.pool, { maxRunBytes: 1024 ** 3, maxRowChars: 3 * 1024 * 1024 });
    const log = new RunLog(run.id, run.attempt, 0);
    log.mask = (t) => t.replaceAll('hunter2', '***');
    log.maskReach = 'hunter2'.length;
    const long = 'é'.repeat(1_500_000); // 3 MB of UTF-8 in one line: more than one flush buffer
    const text = `héllo wörld 🎉\nnul\0here\npassword=hunter2\n${long}\ntail 日本語`;
    const bytes = Buffer.from(text);
    // Cut every 7 bytes, so characters (and the secret) arrive split across chunks.
    const chunks: Buffer[] = [];
    for (let i = 0; i < 4200; i += 7) chunks.push(bytes.subarray(i, i + 7));
    chunks.push(bytes.subarray(4200));
    await writeAll(writer, log, chunks);
    // Compared line by line, so a failure does not print megabytes.
    const stored = (await storedRows(run.id)).map((r) => r.text).join('\n').split('\n');
    expect(stored.map((l) => (l.length > 100 ? `${l.length} × ${l[0]}, ${l === long ? 'equal' : 'different'}` : l))).toEqual([
      'héllo wörld 🎉',
      'nul\uFFFDhere',
      'password=***',
      `${long.length} × é, equal`,
      'tail 日本語',
    ]);
  });

  it("drops the lines of an attempt that no longer holds its run, and keeps the current attempt's", async () => {
    keepDatabaseOnFailure();
    const run = await claimedRun();
    const writer = new LogWriter(db.pool, { maxRunBytes: 1024 ** 3 });
    const stale = new RunLog(run.id, run.attempt - 1, 0);
    const current = new RunLog(run.id, run.attempt, 0);
    writer.system(stale, null, 'from a worker that lost the run');
    await writer.drainRun(stale);
    writer.system(current, null, 'from the worker that holds it');
    await writer.drainRun(current);
    expect(await storedRows(run.id)).toEqual([{ seq: 1, stream: 'system', text: 'from the worker that holds it' }]);
  });
});
