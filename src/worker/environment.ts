// The environment a local step starts with. Deliberately an allowlist: the worker's own
// environment holds DATABASE_URL, HOSTRUN_SECRET_KEY and tokens, which a job's script must
// never be able to read. Job and step `env:` and the HOSTRUN_* run variables come on top.
const PASSED_THROUGH = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM'];

export function baseEnvironment(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) {
    if (v !== undefined && (PASSED_THROUGH.includes(k) || k.startsWith('LC_'))) env[k] = v;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  env.CI = 'true';
  env.HOSTRUN = 'true';
  return env;
}
