// The machine's ceiling for single-row writes: pgbench running one UPDATE of one row per
// transaction (synchronous_commit on, like every system here), 16 clients on 2 threads, on a
// fresh database of the same server. Every queue transition is at least such a write.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { recreateDatabase } from './bench-db.ts';

export interface Ceiling {
  tps: number[];
  clients: number;
  seconds: number;
  version: string;
}

export async function pgbenchCeiling(serverUrl: string, seconds: number, repeats: number): Promise<Ceiling> {
  const url = await recreateDatabase(serverUrl, 'bench_pgbench');
  const u = new URL(url);
  const args = ['-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres')];
  const db = u.pathname.slice(1);
  const dir = mkdtempSync(path.join(tmpdir(), 'pgbench-'));
  const script = path.join(dir, 'update-one.sql');
  writeFileSync(script, '\\set aid random(1, 100000 * :scale)\nUPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;\n');
  const clients = 16;
  // The embedded server has a generated password; pgbench reads it from the environment.
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(u.password) };
  try {
    execFileSync('pgbench', [...args, '-i', '-q', '-s', '1', db], { stdio: 'ignore', env });
    const tps: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const out = execFileSync('pgbench', [...args, '-n', '-c', String(clients), '-j', '2', '-T', String(seconds), '-f', script, db], { encoding: 'utf8', env });
      const m = /tps = ([\d.]+)/.exec(out);
      if (!m) throw new Error(`pgbench printed no tps:\n${out}`);
      tps.push(Number(m[1]));
    }
    const version = execFileSync('pgbench', ['--version'], { encoding: 'utf8' }).trim();
    return { tps, clients, seconds, version };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
