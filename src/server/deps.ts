import type { Logger } from 'pino';
import type { Pool } from '../db/pool.ts';
import type { SecretKey } from '../secrets/crypto.ts';
import type { LoginLimiter } from './login-limiter.ts';
import type { RunFeed } from './run-feed.ts';
import type { SupabaseVerifier } from './supabase-jwt.ts';

/** What the route modules share; built once by createApp. */
export interface AppDeps {
  pool: Pool;
  logger: Logger;
  feed: RunFeed;
  /** Set when Supabase Auth is configured (SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL). */
  supabase: SupabaseVerifier | null;
  /** Believe X-Forwarded-For (HOSTRUN_TRUST_PROXY): only behind a proxy that sets it. */
  trustProxy: boolean;
  loginLimiter: LoginLimiter;
  /** Artifacts: how long they are kept, and the largest upload accepted. */
  artifacts: { retentionDays: number; maxBytes: number };
  /** Seals and opens secrets (HOSTRUN_SECRET_KEY); without one, secrets cannot be stored. */
  secretKey?: SecretKey | undefined;
}
