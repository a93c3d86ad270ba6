import { createHmac, createPublicKey, timingSafeEqual, verify as cryptoVerify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { HostrunError } from '../core/errors.ts';

// Supabase Auth access tokens (JWTs), verified with node:crypto alone:
//   SUPABASE_JWT_SECRET  HS256, the project's legacy shared secret
//   SUPABASE_JWKS_URL    RS256 / ES256, the project's signing keys (fetched, cached)
// The algorithm a token may use follows from what is configured, never from the token's own
// header alone, so a token cannot pick a weaker check ("alg: none", or an RS256 public key
// used as an HS256 secret).

export interface SupabaseAuthConfig {
  jwtSecret?: string;
  jwksUrl?: string;
  /** Expected `aud`; Supabase issues `authenticated` to signed-in users. */
  audience?: string;
}

export interface SupabaseClaims {
  sub: string;
  email: string | null;
}

const JWKS_TTL_MS = 10 * 60_000;
/** Clock difference tolerated between Supabase and this server. */
const LEEWAY_SECONDS = 30;

export function supabaseConfigured(config: SupabaseAuthConfig | undefined): config is SupabaseAuthConfig {
  return Boolean(config && (config.jwtSecret || config.jwksUrl));
}

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

export class SupabaseVerifier {
  private jwks: { keys: Map<string, KeyObject>; fetchedAt: number } | null = null;

  constructor(private readonly config: SupabaseAuthConfig) {}

  async verify(token: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<SupabaseClaims> {
    const parts = token.split('.');
    if (parts.length !== 3) throw invalid('malformed');
    const [h, p, s] = parts as [string, string, string];
    const header = decodeJson(h) as { alg?: unknown; kid?: unknown };
    const signed = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s, 'base64url');

    if (header.alg === 'HS256' && this.config.jwtSecret) {
      const expected = createHmac('sha256', this.config.jwtSecret).update(signed).digest();
      if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw invalid('bad signature');
    } else if ((header.alg === 'RS256' || header.alg === 'ES256') && this.config.jwksUrl) {
      const key = await this.key(typeof header.kid === 'string' ? header.kid : '');
      const ok = cryptoVerify('sha256', signed, header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, signature);
      if (!ok) throw invalid('bad signature');
    } else {
      throw invalid(`algorithm ${String(header.alg)} is not accepted here`);
    }

    const claims = decodeJson(p) as { sub?: unknown; email?: unknown; exp?: unknown; nbf?: unknown; aud?: unknown };
    if (typeof claims.exp !== 'number' || claims.exp + LEEWAY_SECONDS < nowSeconds) throw invalid('expired');
    if (typeof claims.nbf === 'number' && claims.nbf - LEEWAY_SECONDS > nowSeconds) throw invalid('not valid yet');
    const audience = this.config.audience ?? 'authenticated';
    const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!auds.includes(audience)) throw invalid(`audience is not "${audience}"`);
    if (typeof claims.sub !== 'string' || claims.sub === '') throw invalid('no subject');
    return { sub: claims.sub, email: typeof claims.email === 'string' && claims.email !== '' ? claims.email : null };
  }

  private async key(kid: string): Promise<KeyObject> {
    const fresh = this.jwks && Date.now() - this.jwks.fetchedAt < JWKS_TTL_MS;
    let key = fresh ? this.jwks!.keys.get(kid) : undefined;
    // An unknown kid after the cache went stale (or a rotation) is worth one refetch.
    if (!key) {
      await this.fetchKeys();
      key = this.jwks!.keys.get(kid);
    }
    if (!key) throw invalid(`unknown signing key "${kid}"`);
    return key;
  }

  private async fetchKeys(): Promise<void> {
    let body: { keys?: (JsonWebKey & { kid?: string })[] };
    try {
      const res = await fetch(this.config.jwksUrl!, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as typeof body;
    } catch (err) {
      throw new HostrunError('unavailable', 'could not fetch the Supabase signing keys (SUPABASE_JWKS_URL)', { cause: err });
    }
    const keys = new Map<string, KeyObject>();
    for (const jwk of body.keys ?? []) {
      try {
        keys.set(jwk.kid ?? '', createPublicKey({ key: jwk, format: 'jwk' }));
      } catch {
        // A key type we cannot use (e.g. an HS secret published by mistake) is skipped.
      }
    }
    this.jwks = { keys, fetchedAt: Date.now() };
  }
}

function decodeJson(part: string): unknown {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (value === null || typeof value !== 'object') throw new Error('not an object');
    return value;
  } catch {
    throw invalid('malformed');
  }
}

function invalid(why: string): HostrunError {
  return new HostrunError('unauthorized', `invalid Supabase access token: ${why}`);
}
