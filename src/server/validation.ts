import type { Context } from 'hono';
import { z } from 'zod';
import { HostrunError, type ErrorDetail } from '../core/errors.ts';

// Request bodies and query strings are checked with strict zod schemas: an unknown key is an
// error (400), because a misspelt option silently ignored is worse than a refusal.

export function zodDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

export async function readJsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HostrunError('invalid_request', 'the request body is not valid JSON', {
      details: [{ path: '', message: (err as Error).message }],
    });
  }
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new HostrunError('invalid_request', `invalid ${what}`, { details: zodDetails(result.error) });
  return result.data;
}

export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseWith(schema, await readJsonBody(c), 'request body');
}

export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parseWith(schema, c.req.query(), 'query parameters');
}

/** A run id from the path: a positive integer, or 404 (no run can have any other id). */
export function parseRunId(raw: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(raw)) throw new HostrunError('not_found', `run ${raw} not found`);
  return Number(raw);
}

/** `?limit=`: digits within bounds, defaulting when absent. */
export function limitParam(max: number, fallback: number) {
  return z.coerce.number().int().min(1).max(max).default(fallback);
}

/** A non-negative sequence number in a query string (`?after=`). */
export const seqParam = z.coerce.number().int().min(0);
