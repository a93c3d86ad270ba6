import { z } from 'zod';
import type { Operation, OperationRegistry } from './operations.ts';

// The OpenAPI 3.1 document, built from the operations: the zod schemas that validate queries
// and bodies become JSON Schema (2020-12, which OpenAPI 3.1 uses), and each operation's access
// rule is stated in its description and in `x-hostrun-access`.

const ACCESS_TEXT: Record<Operation['access'], string> = {
  public: 'No credentials needed.',
  'signed-in': 'Any valid credential.',
  user: 'A person: a session, a personal token or a Supabase token (not a project token).',
  unscoped: 'A person or the installation admin token (not a project token).',
  superadmin: 'Superadmins only.',
  viewer: 'Viewer or higher in the project.',
  developer: 'Developer or higher in the project.',
  admin: 'Admin or owner of the project.',
  owner: 'Owner of the project.',
};

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: {
            type: 'object',
            required: ['path', 'message'],
            properties: { path: { type: 'string' }, message: { type: 'string' }, line: { type: 'integer' }, column: { type: 'integer' } },
          },
        },
      },
    },
  },
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** `/jobs/:name` and `/runs/:id/artifacts/:key{.+}` as OpenAPI writes them. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
}

function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
}

function queryParameters(schema: z.ZodType | undefined): object[] {
  if (!schema) return [];
  const json = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: s,
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
  }));
}

function operationObject(op: Operation): Record<string, unknown> {
  const parameters = [
    ...pathParameterNames(op.path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...queryParameters(op.query),
  ];
  const requestBody = op.body
    ? { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } }
    : op.rawBody
      ? { required: false, content: { [op.rawBody]: { schema: { type: 'string', contentMediaType: op.rawBody } } } }
      : undefined;
  return {
    operationId: `${op.method.toLowerCase()}${openApiPath(op.path).replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
    summary: op.summary,
    description: ACCESS_TEXT[op.access],
    tags: [op.tag],
    'x-hostrun-access': op.access,
    ...(op.audit ? { 'x-hostrun-audit': op.audit } : {}),
    security: op.access === 'public' ? [] : [{ bearer: [] }, { session: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      [op.method === 'POST' ? '2XX' : '200']: {
        description: 'Success',
        content: { [op.produces ?? 'application/json']: {} },
      },
      default: { description: 'An error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    },
  };
}

export function openApiDocument(registry: OperationRegistry, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of registry.all()) {
    const path = openApiPath(op.path);
    (paths[path] ??= {})[op.method.toLowerCase()] = operationObject(op);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Hostrun API',
      version,
      description:
        'Errors are `{ "error": { "code", "message", "details" } }`. Project-scoped operations act in the project named by ' +
        'the `X-Hostrun-Project` header, else the project of a project token, else `default`. Browser sessions send ' +
        '`X-Hostrun-CSRF` with every change.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token (hr_...), or a Supabase access token when configured' },
        session: { type: 'apiKey', in: 'cookie', name: 'hostrun_session' },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
    paths,
  };
}
