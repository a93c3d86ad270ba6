// Scenario F: the run list API under load with a large history. Runs are inserted with
// generate_series (finished runs as a worker leaves them: a run_steps row and 4 run_events
// rows each), the server is started in this process, and autocannon drives
// GET /api/v1/runs?limit=50 with a project token (viewer) at 50 connections.
import { createPool } from '../src/db/pool.ts';
import { migrate } from '../src/db/migrate.ts';
import { startServer } from '../src/server/http-server.ts';
import { tokenCreate } from '../src/db/tokens.ts';
import { recreateDatabase } from './bench-db.ts';
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
  explain: string;
}

async function peer(name: string): Promise<any> {
  return import(name);
}

const CHUNK = 250_000;

export async function apiScenario(serverUrl: string, _home: string, o: { runs: number; seconds: number; connections?: number }): Promise<ApiResult> {
  const connections = o.connections ?? 50;
  const url = await recreateDatabase(serverUrl, 'bench_hostrun_api');
  const pool = createPool(url, { max: 10 });
  try {
    await migrate(pool);
    const { noop } = await hostrunRequests(pool);
    for (let from = 1; from <= o.runs; from += CHUNK) {
      const to = Math.min(o.runs, from + CHUNK - 1);
      // The insert trigger records each run's first event; the other three follow.
      await pool.query(
        `WITH ins AS (
           INSERT INTO hostrun.runs (project_id, job_id, job_name, job_version, trigger, inputs, status, attempt, worker_id,
                                     created_at, claimed_at, started_at, finished_at, exit_code, outputs, timeout_seconds)
           SELECT $1, $2, $3, $4, 'api', '{}', 'succeeded', 1, 'bench-host:1234:abcdef',
                  t, t + interval '2 ms', t + interval '3 ms', t + interval '9 ms', 0, '{}', 3600
             FROM generate_series($5::int, $6::int) g, LATERAL (SELECT now() - (($7::int - g) * interval '1 second') AS t) x
           RETURNING id, project_id, started_at, finished_at
         ), steps AS (
           INSERT INTO hostrun.run_steps (run_id, idx, attempt, step_id, name, status, exit_code, started_at, finished_at, outputs)
           SELECT id, 0, 1, 'step-1', 'noop', 'succeeded', 0, started_at, finished_at, '{}' FROM ins
         )
         INSERT INTO hostrun.run_events (run_id, project_id, attempt, from_status, to_status, worker_id, at)
         SELECT i.id, i.project_id, 1, e.f::hostrun.run_status, e.t::hostrun.run_status, 'bench-host:1234:abcdef', i.finished_at
           FROM ins i, (VALUES ('queued', 'claimed'), ('claimed', 'running'), ('running', 'succeeded')) e(f, t)`,
        [noop.projectId, noop.job.id, noop.job.name, noop.job.version, from, to, o.runs],
      );
    }
    await pool.query('VACUUM ANALYZE hostrun.runs, hostrun.run_steps, hostrun.run_events');
    const { token } = await tokenCreate(pool, { name: 'bench', projectId: noop.projectId, role: 'viewer' });
    const { rows: plan } = await pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM hostrun.runs WHERE project_id = $1 ORDER BY id DESC LIMIT 51`, [noop.projectId]);
    const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } };
    const server = await startServer({ pool, databaseUrl: url, port: 0, host: '127.0.0.1', logger: silent as never });
    try {
      const { default: autocannon } = await peer('autocannon');
      const target = `${server.url}/api/v1/runs?limit=50`;
      const headers = { authorization: `Bearer ${token}` };
      const probe = await fetch(target, { headers });
      if (probe.status !== 200) throw new Error(`GET /api/v1/runs answered ${probe.status}: ${await probe.text()}`);
      await autocannon({ url: target, connections, duration: 3, headers });
      const r = await autocannon({ url: target, connections, duration: o.seconds, headers });
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
        explain: plan.map((p) => p['QUERY PLAN']).join('\n'),
      };
    } finally {
      await server.stop(1000);
    }
  } finally {
    await pool.end();
  }
}
