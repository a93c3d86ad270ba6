// Scenario E: bench/logs.ts (npm run bench:logs) as a child process against the benchmark's
// server, its two result lines parsed. One way to measure logs, used by both commands.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LogsResult {
  megabytes: number;
  mibPerSecond: number;
  baseRssMiB: number;
  peakRssMiB: number;
  output: string;
}

export async function logsScenario(serverUrl: string, megabytes: number): Promise<LogsResult> {
  const script = fileURLToPath(new URL('./logs.ts', import.meta.url));
  const output = execFileSync(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, DATABASE_URL: serverUrl, BENCH_LOG_MB: String(megabytes) },
    encoding: 'utf8',
    timeout: 30 * 60_000,
  });
  const rate = /= ([\d.]+) MiB\/s/.exec(output);
  const rss = /RSS: (\d+) MiB before, peak (\d+) MiB/.exec(output);
  if (!rate || !rss || !/run succeeded/.test(output)) throw new Error(`bench/logs.ts said:\n${output}`);
  return { megabytes, mibPerSecond: Number(rate[1]), baseRssMiB: Number(rss[1]), peakRssMiB: Number(rss[2]), output };
}
