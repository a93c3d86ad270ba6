// Writes BENCHMARKS.md from one `npm run bench` run: machine, versions, settings, every figure
// (median and range over repeats), Hostrun/peer ratios, and the notes on what was tried.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, totalmem, release } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { median } from './bench-db.ts';
import { SYSTEMS, type SystemName } from './systems.ts';
import type { BurnDown, Latencies, SteadyLoad } from './queue-scenarios.ts';
import type { Ceiling } from './pgbench.ts';
import type { SchedulerResult } from './scheduler-scenario.ts';
import type { LogsResult } from './logs-scenario.ts';
import type { ApiResult } from './api-scenario.ts';

export interface Results {
  settings: Record<string, unknown> & { quick: boolean };
  startedAt: Date;
  finishedAt?: Date;
  ceiling?: Ceiling;
  a: Partial<Record<SystemName, Record<string, BurnDown[]>>>;
  b: Partial<Record<SystemName, Latencies>>;
  c: Partial<Record<SystemName, SteadyLoad[]>>;
  d?: SchedulerResult;
  e?: LogsResult;
  f?: ApiResult;
  notes: string[];
}

/** The p-quantile of xs (p = 1: the maximum; no spread call, which overflows the stack past ~100,000 samples). */
export function quantile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : '–');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function pkgVersion(name: string): string {
  const p = path.resolve(import.meta.dirname, 'node_modules', name, 'package.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version : 'not installed';
}

async function serverFacts(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const names = ['server_version', 'synchronous_commit', 'fsync', 'shared_buffers', 'max_connections', 'wal_level', 'autovacuum', 'autovacuum_naptime', 'shared_preload_libraries'];
    const { rows } = await c.query<{ name: string; setting: string; unit: string | null }>(
      'SELECT name, setting, unit FROM pg_settings WHERE name = ANY ($1) ORDER BY name',
      [names],
    );
    return rows.map((r) => `${r.name} = ${r.setting}${r.unit ? ` (${r.unit})` : ''}`);
  } finally {
    await c.end();
  }
}

function redisVersion(): string {
  try {
    return /redis_version:(\S+)/.exec(execFileSync('redis-cli', ['-h', '127.0.0.1', 'INFO', 'server'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return 'unknown (redis-cli not found)';
  }
}

export async function writeReport(file: string, r: Results, serverUrl: string, systems: SystemName[], embedded: boolean): Promise<void> {
  const L: string[] = [];
  const s = r.settings;
  const label = (sys: SystemName) => SYSTEMS[sys].label;
  L.push('# Benchmarks', '');
  L.push(`Produced by \`${s.quick ? 'BENCH_QUICK=1 npm run bench' : 'npm run bench'}\` — **${s.quick ? 'QUICK mode (shorter windows, fewer runs; indicative, not the full protocol)' : 'full protocol'}** — ${r.startedAt.toISOString()} to ${r.finishedAt?.toISOString()}.`, '');
  L.push('All figures from this one run, systems side by side. Medians with the range over repeats in brackets. The machine is shared and noisy: read ratios, not absolutes.', '');

  L.push('## Machine, versions, settings', '');
  L.push(`- ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`);
  L.push(`- PostgreSQL ${embedded ? 'embedded (started for this run, as `npm start` does; no DATABASE_URL given)' : 'on 127.0.0.1 (DATABASE_URL)'} (same server for all systems; one database per system, dropped and recreated before each system's run; tables emptied, \`VACUUM ANALYZE\`d and checkpointed before each repeat): ${(await serverFacts(serverUrl)).join(', ')}`);
  L.push(`- Redis ${redisVersion()} on 127.0.0.1 (BullMQ only)`);
  L.push(`- graphile-worker ${pkgVersion('graphile-worker')}, pg-boss ${pkgVersion('pg-boss')}, bullmq ${pkgVersion('bullmq')}, autocannon ${pkgVersion('autocannon')} (from \`bench/package.json\`)`);
  L.push(`- Settings of this run: ${Object.entries(s).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('/') : String(v)}`).join(', ')}`, '');
  L.push('| system | configuration | history kept |', '| --- | --- | --- |');
  for (const sys of systems) L.push(`| ${label(sys)} | ${SYSTEMS[sys].settings} | ${SYSTEMS[sys].history} |`);
  L.push('');

  if (r.ceiling) {
    const c = r.ceiling;
    L.push('## Ceiling: pgbench single-row updates', '');
    L.push(`${c.version}; one \`UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :random\` per transaction, ${c.clients} clients, 2 threads, ${c.seconds} s, scale 1: **${f0(median(c.tps))} TPS** [${f0(Math.min(...c.tps))}–${f0(Math.max(...c.tps))}] over ${c.tps.length} repeats.`, '');
  }

  const aKeys = ['1x24', '2x24'];
  if (Object.keys(r.a).length > 0) {
    L.push(`## A. Burn-down: ${f0(Number(s.aRuns))} no-op runs enqueued in one call, then workers start`, '');
    L.push(`Throughput = runs / (last completion − all worker processes ready). Worker processes are separate OS processes (bench/bench-worker.ts). A run that had not drained within ${Number(s.aTimeboxMs) / 1000} s is time-boxed: throughput = completed / elapsed (marked *).`, '');
    L.push('| system | 1 process × 24 (runs/s) | 2 processes × 24 (runs/s) | Hostrun / system (1×24) | Hostrun / system (2×24) |', '| --- | --- | --- | --- | --- |');
    const med = (sys: SystemName, k: string) => median((r.a[sys]?.[k] ?? []).map((x) => x.rate));
    for (const sys of systems) {
      const cells = aKeys.map((k) => {
        const xs = r.a[sys]?.[k] ?? [];
        if (xs.length === 0) return '–';
        const rates = xs.map((x) => x.rate);
        return `${f0(median(rates))} [${f0(Math.min(...rates))}–${f0(Math.max(...rates))}]${xs.some((x) => x.partial) ? '*' : ''}`;
      });
      const ratios = aKeys.map((k) => (sys === 'hostrun' ? '—' : `${f2(med('hostrun', k) / med(sys, k))}×`));
      L.push(`| ${label(sys)} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
    }
    L.push('', 'CPU per run, from go to drained (bench/proc-cpu.ts: every `postgres` and `redis-server` process, and the worker processes; medians of the repeats). On a two-core machine these, not the rates, say where a run\'s cost is and what a change moved.', '');
    L.push('| system | database µs (1×24) | workers µs (1×24) | database µs (2×24) | workers µs (2×24) |', '| --- | --- | --- | --- | --- |');
    for (const sys of systems) {
      const cells = aKeys.flatMap((k) => {
        const xs = r.a[sys]?.[k] ?? [];
        if (xs.length === 0 || xs.every((x) => x.databaseCpuUs === 0)) return ['n/a', 'n/a'];
        return [f0(median(xs.map((x) => x.databaseCpuUs))), f0(median(xs.map((x) => x.workerCpuUs)))];
      });
      L.push(`| ${label(sys)} | ${cells.join(' | ')} |`);
    }
    if (r.ceiling && r.a.hostrun) {
      const ceil = median(r.ceiling.tps);
      L.push('', `Hostrun as a fraction of the pgbench ceiling (${f0(ceil)} single-row-update TPS): ${aKeys.map((k) => `${k}: ${f2(med('hostrun', k) / ceil)}`).join(', ')} — each Hostrun run is 3 status transitions (claimed, running, then succeeded), plus 4 run_events rows and its step states in the run row, all batched.`);
    }
    L.push('');
  }

  if (Object.keys(r.b).length > 0) {
    L.push(`## B. Idle pickup latency (1 worker process, concurrency 1)`, '');
    L.push(`Per sample: time noted, one job added, wait until its handler starts (Hostrun: the \`started_at\` of its step in \`runs.steps\`, the worker's clock — same machine clock), then until it finished so the worker is idle again. ${s.bWarmup} warm-up, up to ${s.bSamples} samples, at most ${Number(s.bBudgetMs) / 1000} s per system (polling systems collect fewer).`, '');
    L.push('| system | samples | p50 ms | p95 ms | p99 ms | max ms | Hostrun/system p50 | Hostrun/system p99 |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
    const h = r.b.hostrun?.samples ?? [];
    for (const sys of systems) {
      const xs = r.b[sys]?.samples;
      if (!xs) continue;
      const q = (p: number) => quantile(xs, p);
      L.push(`| ${label(sys)} | ${xs.length} | ${f2(q(0.5))} | ${f2(q(0.95))} | ${f2(q(0.99))} | ${f2(quantile(xs, 1))} | ${sys === 'hostrun' ? '—' : f2(quantile(h, 0.5) / q(0.5))} | ${sys === 'hostrun' ? '—' : f2(quantile(h, 0.99) / q(0.99))} |`);
    }
    L.push('');
  }

  if (Object.keys(r.c).length > 0) {
    L.push(`## C. Steady load: open-loop producer, 2 worker processes × 8, each job sleeps 5 ms in-process`, '');
    L.push(`Job k is due at start + k/rate and sent then, one call per job, however far behind the system is; latency = handler (Hostrun: step) start − intended send time. ${Number(s.cWarmupMs) / 1000} s warm-up, ${Number(s.cMeasureMs) / 1000} s measured. "missing" = sent in the window but not started by 30 s after it. Dead tuples: \`n_dead_tup\` of the system's tables at the start and the end of the measured window, the most read in it (about once a second), and how many times those tables were vacuumed in the window (BullMQ: Redis used_memory instead of table size).`, '');
    L.push('| system | rate/s | achieved/s | p50 ms | p99 ms | p99.9 ms | max ms | missing | producer errors | dead tuples start → end (max) | vacuums | size start → end |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const sys of systems) {
      for (const x of r.c[sys] ?? []) {
        const q = (p: number) => quantile(x.samples, p);
        const dead = x.statsBefore.deadTuples === null ? 'n/a' : `${f0(x.statsBefore.deadTuples)} → ${f0(x.statsAfter.deadTuples ?? NaN)} (${f0(x.deadMax ?? NaN)})`;
        const vacuums = x.statsBefore.vacuums === null || x.statsAfter.vacuums === null ? 'n/a' : f0(x.statsAfter.vacuums - x.statsBefore.vacuums);
        L.push(`| ${label(sys)} | ${x.rate} | ${f0(x.achieved)} | ${f1(q(0.5))} | ${f1(q(0.99))} | ${f1(q(0.999))} | ${f1(quantile(x.samples, 1))} | ${x.missing} | ${x.errors ?? 0}${x.firstError ? ` (${x.firstError.replace(/\|/g, '/').slice(0, 80)})` : ''} | ${dead} | ${vacuums} | ${mib(x.statsBefore.bytes)} → ${mib(x.statsAfter.bytes)} |`);
      }
    }
    L.push('');
  }

  if (r.d) {
    const d = r.d;
    L.push(`## D. Scheduler: ${f0(d.schedules)} schedules \`${d.cron}\`, ${d.instances} scheduler instances (Hostrun only)`, '');
    L.push(`${d.measuredTo === 'commit' ? 'Lateness = when the run became visible (the commit time of the transaction that inserted it; track_commit_timestamp on) − its fire_at' : 'Lateness = run created_at (the inserting transaction\'s start: this server does not track commit times, so the time a pass takes is not counted) − its fire_at'} (database clock). Peers: graphile-worker's crontab and pg-boss's schedule both have minute granularity and are not run here (see "Not measured").`, '');
    L.push(`| fire times | runs | expected | duplicates | lateness p50 ms | p99 ms | max ms | scheduler CPU s per minute (both instances) |`, '| --- | --- | --- | --- | --- | --- | --- | --- |');
    L.push(`| ${d.fireTimes} | ${f0(d.fires)} | ${f0(d.expected)} | ${d.duplicates} | ${f1(d.p50)} | ${f1(d.p99)} | ${f1(d.max)} | ${f2(d.cpuSecondsPerMinute)} |`, '');
  }

  if (r.e) {
    const e = r.e;
    L.push(`## E. Logs: one step writing ${e.megabytes} MiB to stdout in 100-byte lines (Hostrun only; the peers store no logs)`, '');
    L.push(`Same approach as \`npm run bench:logs\` (bench/logs.ts, run as a child process against this server): **${f1(e.mibPerSecond)} MiB/s** stored in run_logs, worker process RSS ${e.baseRssMiB} MiB before, **peak ${e.peakRssMiB} MiB**.`, '');
  }

  if (r.f) {
    const f = r.f;
    L.push(`## F. API: \`GET /api/v1/runs?limit=50\` with ${f0(f.runs)} runs in history (Hostrun only)`, '');
    L.push(`Runs inserted with generate_series (each with its step states and 4 run_events rows), ANALYZEd; server in a process of its own (bench/api-server.ts), a project token with the viewer role; autocannon, ${f.connections} connections, ${f.seconds} s, after a 3 s warm-up.`, '');
    L.push('| requests/s | p50 ms | p99 ms | max ms | errors / non-2xx | server CPU ms per request |', '| --- | --- | --- | --- | --- | --- |');
    L.push(`| ${f0(f.rps)} | ${f1(f.p50)} | ${f1(f.p99)} | ${f1(f.max)} | ${f.errors} / ${f.non2xx} | ${f.serverCpuMsPerRequest.toFixed(2)} |`, '');
    if (f.explain) L.push('Plan of the list query (EXPLAIN ANALYZE, one run):', '', '```', f.explain, '```', '');
  }

  const notesFile = path.resolve(import.meta.dirname, 'NOTES.md');
  if (existsSync(notesFile)) L.push(readFileSync(notesFile, 'utf8').trim(), '');
  for (const n of r.notes) L.push(`- ${n}`);
  writeFileSync(file, L.join('\n') + '\n');
}
