import { HostrunClient } from '../client/client.ts';
import { loadConfig, resolveToken } from './config.ts';

// The CLI's HostrunClient: every command talks to the server through it (src/client/), the
// same client library users import, so the CLI and the library cannot drift apart.

export { parseSse, type SseEvent } from '../client/transport.ts';
export type { Wire } from '../client/types.ts';

/** The client for HOSTRUN_URL with the token from HOSTRUN_TOKEN or HOSTRUN_HOME. */
export function apiClientFromEnv(env: NodeJS.ProcessEnv = process.env): HostrunClient {
  const config = loadConfig(env);
  return new HostrunClient({
    url: config.url,
    token: resolveToken(config, env),
    project: env.HOSTRUN_PROJECT,
    tokenHint: {
      present: ': check HOSTRUN_TOKEN, or HOSTRUN_HOME/admin-token of the running server',
      missing: ': no token found; set HOSTRUN_TOKEN, or HOSTRUN_HOME to the directory `hostrun start` uses',
    },
  });
}
