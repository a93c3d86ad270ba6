// A worker in its own process, so a test can kill it with SIGKILL mid-run.
import { createPool } from '../../src/db/pool.ts';
import { startWorker } from '../../src/worker/worker.ts';

const url = process.env.DATABASE_URL!;
const pool = createPool(url);
const worker = await startWorker({
  pool,
  databaseUrl: url,
  concurrency: Number(process.env.CONCURRENCY ?? 2),
  home: process.env.HOSTRUN_HOME!,
  id: process.env.WORKER_ID,
  leaseSeconds: Number(process.env.LEASE_SECONDS ?? 2),
  heartbeatMs: 300,
  pollMs: 100,
  reapMs: 200,
});
process.stdout.write(`ready ${worker.id}\n`);
