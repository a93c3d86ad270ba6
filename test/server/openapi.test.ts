import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.ts';
import { openApiPath } from '../../src/server/openapi.ts';
import { createTestDatabase, keepDatabaseOnFailure, type TestDatabase } from '../support/db.ts';

// The OpenAPI document is generated from the operations, so it cannot drift from the routes;
// this checks that nothing is served without being documented, and that the request schemas
// are the strict ones the handlers validate with.

let db: TestDatabase;
let app: ReturnType<typeof createApp>;
// A parsed OpenAPI document; its shape is checked below.
let doc: any;

beforeAll(async () => {
  db = await createTestDatabase();
  app = createApp({ pool: db.pool });
  const res = await app.request('/api/v1/openapi.json');
  expect(res.status).toBe(200);
  doc = await res.json();
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => keepDatabaseOnFailure());

describe('openapi.json', () => {
  it('is OpenAPI 3.1, served without credentials', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('documents every route the app serves', () => {
    const routes = app.routes.filter((r) => r.method !== 'ALL');
    expect(routes.length).toBeGreaterThan(50);
    const undocumented = routes.filter((r) => !doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.path}`);
    expect(undocumented).toEqual([]);
  });

  it('uses the strict request schemas: unknown keys are not allowed', () => {
    const runBody = doc.paths['/api/v1/jobs/{name}/runs'].post.requestBody.content['application/json'].schema;
    expect(runBody.additionalProperties).toBe(false);
    expect(Object.keys(runBody.properties)).toEqual(['inputs', 'priority', 'trigger']);
    const tokenBody = doc.paths['/api/v1/tokens'].post.requestBody.content['application/json'].schema;
    expect(tokenBody.properties.role.enum).toEqual(['viewer', 'developer', 'admin', 'owner']);
    const runsQuery = doc.paths['/api/v1/runs'].get.parameters.map((p: { name: string }) => p.name);
    expect(runsQuery).toEqual(expect.arrayContaining(['job', 'status', 'trigger', 'since', 'until', 'limit', 'cursor']));
  });

  it('states who may call each operation', () => {
    expect(doc.paths['/api/v1/audit'].get['x-hostrun-access']).toBe('admin');
    expect(doc.paths['/api/v1/hooks/{id}'].post.security).toEqual([]);
    expect(doc.paths['/api/v1/runs/{id}/artifacts/{key}'].put.requestBody.content).toHaveProperty(['application/octet-stream']);
  });
});
