// The API server of scenario F, in a process of its own (forked by bench/api-scenario.ts), so
// the load generator's work does not run on the server's event loop. Env: DATABASE_URL.
// Speaks to its parent over IPC: -> { type: 'listening', url }; <- { type: 'cpu' } ->
// { type: 'cpu', micros } (user + system CPU time of this process so far: the cost per request
// that a busy, shared machine does not distort the way it distorts latency); <- { type: 'stop' }
// stops the server and exits (a --cpu-prof profile is written on that exit).
import { createPool } from '../src/db/pool.ts';
import { startServer } from '../src/server/http-server.ts';

const databaseUrl = process.env.DATABASE_URL!;
const pool = createPool(databaseUrl, { max: 10, applicationName: 'bench-api' });
const silent = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent };
const server = await startServer({ pool, databaseUrl, port: 0, host: '127.0.0.1', logger: silent as never });

process.on('disconnect', () => process.exit(0));
process.on('message', (m: { type: string }) => {
  if (m.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ type: 'cpu', micros: user + system });
  }
  if (m.type !== 'stop') return;
  void server
    .stop(1000)
    .then(() => pool.end())
    .finally(() => process.exit(0));
});
process.send?.({ type: 'listening', url: server.url });
