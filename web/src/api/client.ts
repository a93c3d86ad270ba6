// The one way the UI talks to Hostrun: the public API under /api/v1, same origin. The browser
// session is an HttpOnly cookie; state-changing requests also carry the CSRF token that
// /auth/login and /me hand out, and every request names the selected project.

export interface ApiErrorBody {
  code: string;
  message: string;
  details?: { path: string; message: string; line?: number; column?: number }[];
}

/** An answer of the API with an error shape, or no answer at all (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ApiErrorBody['details'];
  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.status = status;
    this.code = body.code;
    this.details = body.details;
  }
  get unreachable(): boolean {
    return this.status === 0;
  }
}

interface ClientState {
  csrf: string | null;
  project: string | null;
}

const state: ClientState = { csrf: null, project: null };
const reachabilityListeners = new Set<(reachable: boolean) => void>();
let reachable = true;

export function setCsrfToken(token: string | null): void {
  state.csrf = token;
}

export function setProject(slug: string | null): void {
  state.project = slug;
}

export function currentProject(): string | null {
  return state.project;
}

/** The banner subscribes here: false after a request got no answer, true after the next one did. */
export function onReachabilityChange(listener: (reachable: boolean) => void): () => void {
  reachabilityListeners.add(listener);
  return () => reachabilityListeners.delete(listener);
}

export function apiReachable(): boolean {
  return reachable;
}

/** Every way of reaching the API reports here: requests, and the live event streams. */
export function markReachable(value: boolean): void {
  if (reachable === value) return;
  reachable = value;
  for (const l of reachabilityListeners) l(value);
}

export function apiHeaders(method = 'GET'): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (state.project) headers['x-hostrun-project'] = state.project;
  if (method !== 'GET' && method !== 'HEAD' && state.csrf) headers['x-hostrun-csrf'] = state.csrf;
  return headers;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  signal?: AbortSignal;
}

export function apiUrl(path: string, query?: RequestOptions['query']): string {
  const url = new URL(`/api/v1${path}`, window.location.origin);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  return url.pathname + url.search;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers = apiHeaders(method);
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(apiUrl(path, opts.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    markReachable(false);
    throw new ApiError(0, { code: 'unreachable', message: 'The Hostrun API did not answer. Is the server running?' });
  }
  // A proxy's 502/503/504 means the API itself is down, the same as no answer.
  markReachable(res.status !== 502 && res.status !== 503 && res.status !== 504);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: a proxy's error page
  }
  if (!res.ok) {
    const body = (parsed as { error?: ApiErrorBody } | undefined)?.error;
    throw new ApiError(res.status, body ?? { code: 'http_' + res.status, message: `The server answered ${res.status} ${res.statusText}` });
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} }),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, { body: body ?? {} }),
  patch: <T>(path: string, body?: unknown) => request<T>('PATCH', path, { body: body ?? {} }),
  delete: <T>(path: string, body?: unknown) => request<T>('DELETE', path, body !== undefined ? { body } : {}),
};

/** A message for a person: what went wrong, and the first detail when there is one. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    const d = err.details?.[0];
    return d && d.message && !err.message.includes(d.message) ? `${err.message}: ${d.path ? d.path + ': ' : ''}${d.message}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
