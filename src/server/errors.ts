import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { HostrunError, type ErrorCode, type ErrorDetail } from '../core/errors.ts';

// The one place where errors become HTTP responses. Every error leaves the API as
//   { "error": { "code": "...", "message": "...", "details": [...] } }
// Validation problems are 400 (not 422): the client sent something it must change, and one
// status for "your request is wrong" is simpler to handle than two. `unsupported` is 422: the
// request is well formed but names something this installation cannot do.

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: ErrorDetail[] };
}

const STATUS_BY_CODE: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_spec: 400,
  invalid_input: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unsupported: 422,
  internal: 500,
  database: 503,
  unavailable: 503,
};

// Postgres SQLSTATE classes that mean "the database is not there right now" rather than a bug:
// 08 connection exceptions, 53 insufficient resources, 57P admin shutdown / cannot connect now.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P)/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE']);

/** Turns anything thrown into a HostrunError; unknown errors become a generic `internal`. */
export function toHostrunError(err: unknown): HostrunError {
  if (err instanceof HostrunError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code) || /timeout exceeded when trying to connect/i.test(String(e?.message))) {
    return new HostrunError('database', 'the database is unavailable', { cause: err });
  }
  return new HostrunError('internal', 'internal server error', { cause: err });
}

export function errorResponseParts(err: unknown): { status: ContentfulStatusCode; body: ErrorBody; error: HostrunError } {
  const error = toHostrunError(err);
  return {
    status: STATUS_BY_CODE[error.code],
    // `internal` and `database` carry generic messages above; the detail goes to the log only.
    body: { error: { code: error.code, message: error.message, details: error.details } },
    error,
  };
}

/** Hono's onError hook: logs server-side failures with their cause, never sends a stack. */
export function handleError(logger: Logger) {
  return (err: unknown, c: Context): Response => {
    const { status, body, error } = errorResponseParts(err);
    if (status >= 500) {
      logger.error({ err: error.cause ?? error, method: c.req.method, path: c.req.path }, error.message);
    }
    if (status === 401) c.header('WWW-Authenticate', 'Bearer');
    return c.json(body, status);
  };
}
