import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import type { MemberRole } from '../db/tokens.ts';
import type { AppEnv } from './auth.ts';

// Every API route is an operation: its method and path, who may call it, what it changes, and
// the zod schemas of its query and body. The same schemas validate requests in the handlers,
// feed the OpenAPI document (openapi.ts), and the access rule is enforced for every request by
// one middleware (auth.ts). A route without an operation is refused (500), never left open.

/**
 * Who may call an operation:
 *   public      anyone (sign-in, setup, webhooks, the OpenAPI document)
 *   signed-in   any valid credential
 *   user        a person: a session, a personal token or a Supabase token (not a project token)
 *   unscoped    a person or the installation's admin token: anything but a project token
 *   superadmin  an installation admin
 *   viewer ... owner  that role or higher in the request's project
 */
export type Access = 'public' | 'signed-in' | 'user' | 'unscoped' | 'superadmin' | MemberRole;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Operation {
  method: HttpMethod;
  /** Hono path pattern, in full once mounted: `/api/v1/jobs/:name`. */
  path: string;
  access: Access;
  tag: string;
  summary: string;
  /** What a refused caller could not do, for the one-line 403: "viewer cannot run jobs in project web". */
  does?: string;
  /** The audit action recorded when the operation changes something (`job.apply`). */
  audit?: string;
  query?: z.ZodType;
  body?: z.ZodType;
  /** For bodies that are not JSON (artifact uploads, webhook payloads): the content type. */
  rawBody?: string;
  /** The request's project comes from this path parameter (`/projects/:slug`), not the header. */
  projectParam?: string;
  /** Content types of a successful answer other than JSON (log downloads, SSE). */
  produces?: string;
}

export type OperationSpec = Omit<Operation, 'method' | 'path'>;

/** A handler; typing the context with the path gives `c.req.param('name')` as a string. */
type Handler<P extends string> = (c: Context<AppEnv, P>) => Response | Promise<Response>;

/** A resource's routes and their operations, mounted together by createApp. */
export class Routes {
  readonly app = new Hono<AppEnv>();
  readonly operations: Operation[] = [];

  get<P extends string>(path: P, spec: OperationSpec, handler: Handler<P>): this {
    return this.on('GET', path, spec, handler);
  }

  post<P extends string>(path: P, spec: OperationSpec, handler: Handler<P>): this {
    return this.on('POST', path, spec, handler);
  }

  put<P extends string>(path: P, spec: OperationSpec, handler: Handler<P>): this {
    return this.on('PUT', path, spec, handler);
  }

  patch<P extends string>(path: P, spec: OperationSpec, handler: Handler<P>): this {
    return this.on('PATCH', path, spec, handler);
  }

  delete<P extends string>(path: P, spec: OperationSpec, handler: Handler<P>): this {
    return this.on('DELETE', path, spec, handler);
  }

  on<P extends string>(method: HttpMethod, path: P, spec: OperationSpec, handler: Handler<P>): this {
    this.operations.push({ method, path, ...spec });
    this.app.on(method, path, handler as unknown as Handler<string>);
    return this;
  }
}

/** The operations of one app, looked up by method and route pattern. */
export class OperationRegistry {
  private readonly byKey = new Map<string, Operation>();

  add(prefix: string, operations: readonly Operation[]): void {
    for (const op of operations) {
      const path = joinPath(prefix, op.path);
      const key = `${op.method} ${path}`;
      if (this.byKey.has(key)) throw new Error(`operation ${key} is declared twice`);
      this.byKey.set(key, { ...op, path });
    }
  }

  find(method: string, path: string): Operation | undefined {
    return this.byKey.get(`${method} ${path}`);
  }

  all(): Operation[] {
    return [...this.byKey.values()];
  }
}

/** Mounts a Routes (or a plain Hono app with its operations listed) under a prefix. */
export function mountRoutes(
  app: Hono<AppEnv>,
  registry: OperationRegistry,
  prefix: string,
  routes: Routes | { app: Hono<AppEnv>; operations: readonly Operation[] },
): void {
  app.route(prefix, routes.app);
  registry.add(prefix, routes.operations);
}

function joinPath(prefix: string, path: string): string {
  const joined = `${prefix.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  return joined.length > 1 ? joined.replace(/\/+$/, '') : joined;
}

/** The values of a route pattern's parameters in a concrete path (`/jobs/:name` + `/jobs/x`). */
export function pathParams(pattern: string, path: string): Record<string, string> {
  const names = pattern.split('/');
  const values = path.split('/');
  const params: Record<string, string> = {};
  names.forEach((name, i) => {
    if (name.startsWith(':') && values[i] !== undefined) {
      const key = name.slice(1).replace(/\{.*\}$/, '');
      try {
        params[key] = decodeURIComponent(values[i]!);
      } catch {
        params[key] = values[i]!;
      }
    }
  });
  return params;
}
