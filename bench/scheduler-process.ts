// One scheduler instance for scenario D, in its own process so its CPU time is its own.
// Env: DATABASE_URL. IPC: -> ready; <- stop -> { type: 'cpu', seconds } then exit.
import { createPool } from '../src/db/pool.ts';
import { startScheduler } from '../src/scheduler/scheduler.ts';

const url = process.env.DATABASE_URL!;
const pool = createPool(url, { max: 4, applicationName: 'bench-scheduler' });
// HOSTRUN_SCHEDULER_BATCH: an experiment knob (the product default is used when unset).
const batchSize = process.env.HOSTRUN_SCHEDULER_BATCH ? Number(process.env.HOSTRUN_SCHEDULER_BATCH) : undefined;
const scheduler = await startScheduler({ pool, databaseUrl: url, batchSize });
const baseline = process.cpuUsage();
process.on('disconnect', () => process.exit(0));
process.on('message', (m: { type: string }) => {
  if (m.type !== 'stop') return;
  void scheduler.stop().then(async () => {
    const u = process.cpuUsage(baseline);
    process.send?.({ type: 'cpu', seconds: (u.user + u.system) / 1e6 });
    await pool.end();
    process.exit(0);
  });
});
process.send?.({ type: 'ready' });
