// Scenario F: the run list API under load with a large history. Runs are inserted with
// generate_series (finished runs as a worker leaves them: its step states in the row and 4 run_events
// rows each), the server runs in a child process (bench/api-server.ts), and autocannon drives
// GET /api/v1/runs?limit=50 from this process with a project token (viewer) at 50 connections.
//
// BENCH_F_REUSE=1 keeps a database that already holds the runs (for iterating on the server);
// BENCH_F_CPU_PROF=<dir> writes a V8 CPU profile of the server process there;
// BENCH_F_DATABASE names the database (default bench_hostrun_api), so a worktree of another
// commit, whose migrations differ, can keep its own; BENCH_F_CHURN=<n> inserts n finished runs
// per second while measuring, so the first page keeps changing as on a busy installation (the
// server answers an unchanged page from the bytes it built last time).
import { fork } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { createPool } from '../src/db/pool.ts';
import { migrate } from '../src/db/migrate.ts';
import { tokenCreate } from '../src/db/tokens.ts';
import { recreateDatabase } from './bench-db.ts';
import { cpuUsedMs, processCpuMs } from './proc-cpu.ts';
import { hostrunRequests } from './systems.ts';

export interface ApiResult {
  runs: number;
  connections: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  /** CPU time (user + system) the server process spent per request served while measured. */
  serverCpuMsPerRequest: number;
  /** CPU time of the server's Postgres backends per request (from /proc; null where unreadable). */
  postgresCpuMsPerRequest: number | null;
  /** CPU time of this process (autocannon) per request: the third user of the machine's cores. */
  loadCpuMsPerRequest: number;
  explain: string;
}

async function peer(name: string): Promise<any> {
  return import(name);
}

const CHUNK = 250_000;

export async function apiScenario(serverUrl: string, _home: string, o: { runs: number; seconds: number; connections?: number }): Promise<ApiResult> {
  const connections = o.connections ?? 50;
  const database = process.env.BENCH_F_DATABASE ?? 'bench_hostrun_api';
  const reuse = process.env.BENCH_F_REUSE === '1' && (await runsHeld(serverUrl, database)) === o.runs;
  const url = reuse ? databaseUrl(serverUrl, database) : await recreateDatabase(serverUrl, database);
  const pool = createPool(url, { max: 10 });
  try {
    await migrate(pool);
    const { noop } = await hostrunRequests(pool);
    for (let from = 1; from <= (reuse ? 0 : o.runs); from += CHUNK) {
      const to = Math.min(o.runs, from + CHUNK - 1);
      // The insert trigger records each run's first event; the other three follow.
      await pool.query(
        `WITH ins AS (
           INSERT INTO hostrun.runs (project_id, job_id, job_name, job_version, trigger, inputs, status, attempt, worker_id,
                                     created_at, claimed_at, started_at, finished_at, exit_code, outputs, timeout_seconds, steps)
           SELECT $1, $2, $3, $4, 'api', '{}', 'succeeded', 1, 'bench-host:1234:abcdef',
                  t, t + interval '2 ms', t + interval '3 ms', t + interval '9 ms', 0, '{}', 3600,
                  json_build_array(json_build_object('idx', 0, 'attempt', 1, 'step_id', 'step-1', 'name', 'noop', 'status', 'succeeded',
                                                       'exit_code', 0, 'started_at', round(extract(epoch FROM t) * 1000) + 3, 'finished_at', round(extract(epoch FROM t) * 1000) + 9,
                                                       'outputs', '{}'::json, 'error', NULL))
             FROM generate_series($5::int, $6::int) g, LATERAL (SELECT now() - (($7::int - g) * interval '1 second') AS t) x
           RETURNING id, project_id, started_at, finished_at
         )
         INSERT INTO hostrun.run_events (run_id, project_id, attempt, from_status, to_status, worker_id, at)
         SELECT i.id, i.project_id, 1, e.f::hostrun.run_status, e.t::hostrun.run_status, 'bench-host:1234:abcdef', i.finished_at
           FROM ins i, (VALUES ('queued', 'claimed'), ('claimed', 'running'), ('running', 'succeeded')) e(f, t)`,
        [noop.projectId, noop.job.id, noop.job.name, noop.job.version, from, to, o.runs],
      );
    }
    await pool.query('VACUUM ANALYZE hostrun.runs, hostrun.run_events, hostrun.run_queue, hostrun.run_leases');
    const { token } = await tokenCreate(pool, { name: 'bench', projectId: noop.projectId, role: 'viewer' });
    const { rows: plan } = await pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hostrun.runs WHERE project_id = $1 ORDER BY id DESC LIMIT 51`, [noop.projectId]);
    const server = await startServerProcess(url);
    try {
      const { default: autocannon } = await peer('autocannon');
      const target = `${server.url}/api/v1/runs?limit=50`;
      const headers = { authorization: `Bearer ${token}` };
      const probe = await fetch(target, { headers });
      if (probe.status !== 200) throw new Error(`GET /api/v1/runs answered ${probe.status}: ${await probe.text()}`);
      await autocannon({ url: target, connections, duration: 3, headers });
      const cpuBefore = await server.cpuMicros();
      const pgBefore = await backendCpu(pool);
      const loadBefore = process.cpuUsage();
      const churn = startChurn(url, noop, Number(process.env.BENCH_F_CHURN ?? 0));
      let r;
      try {
        r = await autocannon({ url: target, connections, duration: o.seconds, headers });
      } finally {
        await churn.stop();
      }
      const load = process.cpuUsage(loadBefore);
      const cpuMicros = (await server.cpuMicros()) - cpuBefore;
      const pgAfter = await backendCpu(pool);
      const pgMs = pgBefore && pgAfter ? cpuUsedMs(pgBefore, pgAfter) : null;
      const perRequest = (ms: number) => ms / r.requests.total;
      console.log(
        `[F] ${r.requests.total} requests, ${r.requests.average} req/s, ${churn.inserted} runs inserted meanwhile; CPU ms per request: server ${perRequest(cpuMicros / 1000).toFixed(3)}, ` +
          `postgres ${pgMs === null ? '?' : perRequest(pgMs).toFixed(3)}, autocannon ${perRequest((load.user + load.system) / 1000).toFixed(3)}`,
      );
      return {
        runs: o.runs,
        connections,
        seconds: o.seconds,
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        max: r.latency.max,
        errors: r.errors + r.timeouts,
        non2xx: r.non2xx,
        serverCpuMsPerRequest: cpuMicros / 1000 / r.requests.total,
        postgresCpuMsPerRequest: pgMs === null ? null : perRequest(pgMs),
        loadCpuMsPerRequest: perRequest((load.user + load.system) / 1000),
        explain: plan.map((p) => p['QUERY PLAN']).join('\n'),
      };
    } finally {
      await server.stop();
    }
  } finally {
    await pool.end();
  }
}

function databaseUrl(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

type NoopJob = Awaited<ReturnType<typeof hostrunRequests>>['noop'];

/** Inserts `perSecond` finished runs a second into the job's project until stopped (0: none). */
function startChurn(url: string, noop: NoopJob, perSecond: number): { inserted: number; stop(): Promise<void> } {
  const state = { inserted: 0, stop: async () => {} };
  if (!(perSecond > 0)) return state;
  const client = new pg.Client({ connectionString: url, application_name: 'bench-churn' });
  const connected = client.connect();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void connected
      .then(() =>
        client.query(
          `INSERT INTO hostrun.runs (project_id, job_id, job_name, job_version, trigger, inputs, status, attempt, worker_id,
                                     created_at, claimed_at, started_at, finished_at, exit_code, outputs, timeout_seconds)
           VALUES ($1, $2, $3, $4, 'api', '{}', 'succeeded', 1, 'bench-churn', now(), now(), now(), now(), 0, '{}', 3600)`,
          [noop.projectId, noop.job.id, noop.job.name, noop.job.version],
        ),
      )
      .then(() => state.inserted++)
      .finally(() => (busy = false));
  }, 1000 / perSecond);
  state.stop = async () => {
    clearInterval(timer);
    await connected.catch(() => {});
    while (busy) await new Promise((resolve) => setTimeout(resolve, 10));
    // Gone again, so the next BENCH_F_REUSE run finds the history it expects.
    await client.query(`DELETE FROM hostrun.runs WHERE worker_id = 'bench-churn'`).catch(() => {});
    await client.end().catch(() => {});
  };
  return state;
}

/**
 * CPU ms of each Postgres backend serving the server process (its pool and its feed
 * connection), by pid; null where /proc cannot be read (Postgres on another machine).
 */
async function backendCpu(pool: ReturnType<typeof createPool>): Promise<Map<number, number> | null> {
  const { rows } = await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name IN ('bench-api', 'hostrun-run-feed')`);
  const ms = new Map<number, number>();
  for (const { pid } of rows) {
    const p = processCpuMs(pid);
    if (!p) return null;
    ms.set(pid, p.ms);
  }
  return ms;
}

/** How many runs database `name` holds, or -1 when it does not exist yet. */
async function runsHeld(serverUrl: string, name: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, name) });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM hostrun.runs');
    return Number(rows[0]!.n);
  } catch {
    return -1;
  } finally {
    await client.end().catch(() => {});
  }
}

async function startServerProcess(url: string): Promise<{ url: string; cpuMicros(): Promise<number>; stop(): Promise<void> }> {
  const profileDir = process.env.BENCH_F_CPU_PROF;
  const child = fork(path.join(import.meta.dirname, 'api-server.ts'), [], {
    execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    env: { ...process.env, DATABASE_URL: url },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { type: string; url: string }) => resolve(m.url));
    child.once('exit', (code) => reject(new Error(`the API server process exited (${code}) before listening`)));
  });
  return {
    url: listening,
    cpuMicros: () =>
      new Promise<number>((resolve) => {
        const onMessage = (m: { type: string; micros: number }) => {
          if (m.type !== 'cpu') return;
          child.off('message', onMessage);
          resolve(m.micros);
        };
        child.on('message', onMessage);
        child.send({ type: 'cpu' });
      }),
    async stop() {
      child.send({ type: 'stop' });
      await exited;
    },
  };
}
