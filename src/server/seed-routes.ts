import { z } from 'zod';
import { HostrunError, NotFoundError } from '../core/errors.ts';
import { normalizeJobSpec } from '../core/spec.ts';
import { jobApply, jobGetById } from '../db/jobs.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { runCreate } from './run-create.ts';
import { parseBody, readJsonBody } from './validation.ts';

// The two endpoints of the system Hostrun replaces (seeds/000), kept so its clients work:
//   POST /api/save-config  the flat config object -> { id, name, version }
//   POST /api/run          { config_id, input_overrides } -> { run_id, status }
// A "config" is a job: saving one by an existing name writes a new version of that job.

const RunBody = z.strictObject({
  config_id: z.string().min(1),
  input_overrides: z.record(z.string(), z.unknown()).optional(),
});

const SaveConfigBody = z.record(z.string(), z.unknown()).describe('the flat config object of seeds/000');

export function seedRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool } = deps;
  const tag = 'seed';

  r.post('/save-config', { tag, access: 'developer', does: 'apply jobs', audit: 'job.apply', summary: 'Save a flat config as a job (the seed API)', body: SaveConfigBody }, async (c) => {
    const body = await readJsonBody(c);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new HostrunError('invalid_request', 'expected the config as a JSON object');
    }
    const spec = normalizeJobSpec(body);
    const { job, created } = await jobApply(pool, {
      projectId: c.get('principal').projectId,
      spec,
      source: JSON.stringify(body, null, 2) + '\n',
    });
    return c.json({ id: job.id, name: job.name, version: job.version }, created ? 201 : 200);
  });

  r.post('/run', { tag, access: 'developer', does: 'run jobs', audit: 'run.create', summary: 'Run a saved config (the seed API)', body: RunBody }, async (c) => {
    const { projectId } = c.get('principal');
    const body = await parseBody(c, RunBody);
    const job = await jobGetById(pool, projectId, body.config_id);
    if (!job) throw new NotFoundError(`config ${body.config_id}`);
    const run = await runCreate(pool, { projectId, job, inputs: body.input_overrides ?? {}, trigger: 'api', createdBy: c.get('principal').userId });
    c.set('audit', { resourceType: 'run', resourceId: String(run.id), details: { job: job.name } });
    return c.json({ run_id: run.id, status: run.status }, 201);
  });

  return r;
}
