import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import type { AppEnv } from './auth.ts';

// The web UI: the static files `npm run build:web` writes to web/dist, served at / from the
// API's own origin (so the session cookie and CSRF header need no CORS). Paths that are not
// files are the single-page app's routes and get index.html. /api/* and the probes never
// come here. Files are read per request (the OS caches them); hashed assets are immutable.

/** Where `npm run build:web` writes; HOSTRUN_WEB_DIR serves a build from elsewhere. */
const DEFAULT_DIR = process.env.HOSTRUN_WEB_DIR || fileURLToPath(new URL('../../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

// Scripts only from this origin; inline styles are allowed because the YAML editor and
// React's style attributes set them. No framing, no plugins, API calls to this origin only.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The UI's answer for a request no API route matched, or null when it is not the UI's (not a
 * GET/HEAD, or under /api): the app's not-found handler calls this first, so the UI never
 * shadows an API route or its access rules.
 */
export function webUiHandler(dir: string = DEFAULT_DIR): (c: Context<AppEnv>) => Response | null {
  const root = path.resolve(dir);
  return (c) => {
    const reqPath = c.req.path;
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return null;
    if (reqPath.startsWith('/api/') || reqPath === '/api' || reqPath === '/healthz' || reqPath === '/readyz') return null;
    const index = path.join(root, 'index.html');
    if (!existsSync(index)) return notBuilt(c);

    let file: string | null = null;
    let decoded: string;
    try {
      decoded = decodeURIComponent(reqPath);
    } catch {
      return null;
    }
    const candidate = path.resolve(root, '.' + decoded);
    // Never outside web/dist, whatever the path says.
    if (candidate.startsWith(root + path.sep) && existsSync(candidate) && statSync(candidate).isFile()) file = candidate;
    // A missing file with an extension is a missing file, not an app route.
    if (!file && path.extname(decoded) && !decoded.endsWith('.html')) return null;
    const target = file ?? index;
    const body = readFileSync(target);
    const ext = path.extname(target);
    const immutable = target.startsWith(path.join(root, 'assets') + path.sep);
    return c.body(body, 200, {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'x-frame-options': 'DENY',
    });
  };
}

function notBuilt(c: Context<AppEnv>): Response {
  return c.html(
    `<!doctype html><meta charset="utf-8"><title>Hostrun</title><body style="font-family:system-ui;max-width:40rem;margin:4rem auto;padding:0 1rem">` +
      `<h1>Hostrun is running; its web UI is not built</h1><p>Build it once with <code>npm run build:web</code> (<code>npm install</code> does this) and reload. ` +
      `The API is at <code>/api/v1</code>, documented at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></body>`,
    503,
  );
}
