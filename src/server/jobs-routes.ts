import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { HostrunError, NotFoundError } from '../core/errors.ts';
import { normalizeJobSpec, parseJobSpec } from '../core/spec.ts';
import { validateSpecSource } from './job-validate.ts';
import { diffLines } from '../core/text-diff.ts';
import type { JobSpec } from '../core/types.ts';
import { jobApply, jobDelete, jobGetByName, jobSetEnabled, jobsList, type JobRow } from '../db/jobs.ts';
import { jobVersionGet, jobVersionsList } from '../db/job-versions.ts';
import { scheduleNextFireTimes, schedulesList, type ScheduleRow } from '../db/schedules.ts';
import { jobWebhookSecretIsSet, jobWebhookSecretSet } from '../db/webhooks.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { runCreate } from './run-create.ts';
import { parseBody, parseQuery, parseWith, readJsonBody } from './validation.ts';

// /api/v1/jobs: apply (create or new version), list, show, delete, enable/disable, run now,
// version history and a diff between two versions, and the job's webhook. Also a dry run of
// an apply (validate) for editors that show problems while the spec is being typed.

const SourceBody = z.strictObject({
  source: z.string().min(1, 'source is empty'),
  format: z.enum(['yaml', 'json']).optional(),
});

/** Documented shape of an apply; a spec object sent directly is accepted as well. */
const ApplyBody = z.union([SourceBody, z.record(z.string(), z.unknown()).describe('a job spec as a JSON object')]);

export const RunBody = z.strictObject({
  inputs: z.record(z.string(), z.unknown()).optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  trigger: z.enum(['manual', 'api']).optional(),
});

const versionParam = z.coerce.number().int().min(1);
const DiffQuery = z.strictObject({ from: versionParam, to: versionParam.optional() });

const ValidateBody = z.strictObject({
  source: z.string().max(1_000_000, 'at most 1,000,000 characters'),
  format: z.enum(['yaml', 'json']).optional(),
});

/** How many fire times GET /jobs/:name lists per schedule: enough to see the rhythm. */
const NEXT_FIRE_TIMES = 5;

/** What a list row or a job page needs of a schedule; the full rows are at /schedules. */
function scheduleSummary(s: ScheduleRow) {
  return { id: s.id, description: s.description, enabled: s.enabled, next_fire_at: s.next_fire_at };
}

const WebhookSecretBody = z.strictObject({
  /** Leave out to have the server generate one (returned once). */
  secret: z.string().min(16, 'at least 16 characters').max(256).optional(),
});

/** The job body of an apply: `{ source, format? }`, or the spec itself as a JSON object. */
function specFromBody(body: unknown): { spec: JobSpec; source: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HostrunError('invalid_request', 'expected a JSON object: { "source": "...", "format": "yaml" } or a job spec');
  }
  if ('source' in body) {
    const { source, format } = parseWith(SourceBody, body, 'request body');
    return { spec: parseJobSpec(source, format ? { format } : {}), source };
  }
  return { spec: normalizeJobSpec(body), source: JSON.stringify(body, null, 2) + '\n' };
}

export async function jobByNameOr404(deps: Pick<AppDeps, 'pool'>, projectId: string, name: string): Promise<JobRow> {
  const job = await jobGetByName(deps.pool, projectId, name);
  if (!job) throw new NotFoundError(`job "${name}"`);
  return job;
}

/** Where a job's webhook answers, relative to the server's base URL. */
export function webhookPath(webhookId: string): string {
  return `/api/v1/hooks/${webhookId}`;
}

export function jobsRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool } = deps;
  const tag = 'jobs';

  r.post('/jobs', { tag, access: 'developer', does: 'apply jobs', audit: 'job.apply', summary: 'Create a job, or write a new version of it', body: ApplyBody }, async (c) => {
    const principal = c.get('principal');
    const { spec, source } = specFromBody(await readJsonBody(c));
    const result = await jobApply(pool, { projectId: principal.projectId, spec, source, ...(principal.userId ? { createdBy: principal.userId } : {}) });
    c.set('audit', { resourceId: result.job.name, details: { version: result.job.version, created: result.created, changed: result.changed } });
    return c.json(result, result.created ? 201 : 200);
  });

  r.get('/jobs', { tag, access: 'viewer', summary: 'List jobs with their last run and next fire time' }, async (c) => {
    const { projectId } = c.get('principal');
    const [jobs, schedules] = await Promise.all([jobsList(pool, projectId), schedulesList(pool, { projectId })]);
    const byJob = new Map<string, ReturnType<typeof scheduleSummary>[]>();
    for (const s of schedules) byJob.set(s.job_id, [...(byJob.get(s.job_id) ?? []), scheduleSummary(s)]);
    return c.json({ jobs: jobs.map((j) => ({ ...j, schedules: byJob.get(j.id) ?? [] })) });
  });

  r.post('/jobs/validate', { tag, access: 'developer', does: 'apply jobs', summary: 'Check a job spec as an apply would, without saving it: every problem with its line and column', body: ValidateBody }, async (c) => {
    const body = await parseBody(c, ValidateBody);
    return c.json(validateSpecSource(body.source, body.format));
  });

  r.get('/jobs/:name', { tag, access: 'viewer', summary: 'Show a job with its schedules (each with its next five fire times)' }, async (c) => {
    const { projectId } = c.get('principal');
    const job = await jobByNameOr404(deps, projectId, c.req.param('name'));
    const schedules = await schedulesList(pool, { projectId, jobId: job.id });
    // A schedule of a disabled job does not fire, so it has no next fire times to show.
    const withTimes = schedules.map((s) => ({ ...s, next_fire_times: job.enabled ? scheduleNextFireTimes(s, NEXT_FIRE_TIMES) : [] }));
    return c.json({ ...job, schedules: withTimes });
  });

  r.delete('/jobs/:name', { tag, access: 'developer', does: 'delete jobs', audit: 'job.delete', summary: 'Delete a job (its runs stay as history)' }, async (c) => {
    const name = c.req.param('name');
    if (!(await jobDelete(pool, c.get('principal').projectId, name))) throw new NotFoundError(`job "${name}"`);
    return c.json({ deleted: true, name });
  });

  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    r.post(`/jobs/:name/${action}`, { tag, access: 'developer', does: `${action} jobs`, audit: `job.${action}`, summary: `${action === 'enable' ? 'Enable' : 'Disable'} a job` }, async (c) => {
      const name = c.req.param('name');
      const job = await jobSetEnabled(pool, c.get('principal').projectId, name, enabled);
      if (!job) throw new NotFoundError(`job "${name}"`);
      return c.json(job);
    });
  }

  r.post('/jobs/:name/runs', { tag: 'runs', access: 'developer', does: 'run jobs', audit: 'run.create', summary: 'Run a job now', body: RunBody }, async (c) => {
    const principal = c.get('principal');
    // Look the job up first so an unknown job is a 404 even when the body is also wrong.
    const job = await jobByNameOr404(deps, principal.projectId, c.req.param('name'));
    const body = await parseBody(c, RunBody);
    const run = await runCreate(pool, {
      projectId: principal.projectId,
      job,
      inputs: body.inputs ?? {},
      trigger: body.trigger ?? 'api',
      createdBy: principal.userId,
      ...(body.priority === undefined ? {} : { priority: body.priority }),
    });
    c.set('audit', { resourceType: 'run', resourceId: String(run.id), details: { job: job.name } });
    return c.json(run, 201);
  });

  r.get('/jobs/:name/versions', { tag, access: 'viewer', summary: "A job's versions, newest first" }, async (c) => {
    const job = await jobByNameOr404(deps, c.get('principal').projectId, c.req.param('name'));
    return c.json({ name: job.name, current: job.version, versions: await jobVersionsList(pool, job.id) });
  });

  r.get('/jobs/:name/versions/:version', { tag, access: 'viewer', summary: 'One version of a job: its spec and source' }, async (c) => {
    const job = await jobByNameOr404(deps, c.get('principal').projectId, c.req.param('name'));
    const raw = c.req.param('version');
    const version = /^[1-9][0-9]{0,8}$/.test(raw) ? await jobVersionGet(pool, job.id, Number(raw)) : null;
    if (!version) throw new NotFoundError(`version ${raw} of job "${job.name}"`);
    return c.json({ name: job.name, ...version });
  });

  r.get('/jobs/:name/diff', { tag, access: 'viewer', summary: 'Unified diff of the sources of two versions (to: current by default)', query: DiffQuery }, async (c) => {
    const job = await jobByNameOr404(deps, c.get('principal').projectId, c.req.param('name'));
    const q = parseQuery(c, DiffQuery);
    const toVersion = q.to ?? job.version;
    const [from, to] = await Promise.all([jobVersionGet(pool, job.id, q.from), jobVersionGet(pool, job.id, toVersion)]);
    if (!from) throw new NotFoundError(`version ${q.from} of job "${job.name}"`);
    if (!to) throw new NotFoundError(`version ${toVersion} of job "${job.name}"`);
    let diff;
    try {
      diff = diffLines(from.source, to.source, { from: `${job.name} v${from.version}`, to: `${job.name} v${to.version}` });
    } catch (err) {
      throw new HostrunError('unsupported', (err as Error).message);
    }
    return c.json({ name: job.name, from: from.version, to: to.version, spec_changed: JSON.stringify(from.spec) !== JSON.stringify(to.spec), ...diff });
  });

  r.get('/jobs/:name/webhook', { tag: 'webhooks', access: 'developer', does: 'see webhook URLs', summary: "A job's webhook URL and whether it needs a signature" }, async (c) => {
    const job = await jobByNameOr404(deps, c.get('principal').projectId, c.req.param('name'));
    if (!job.webhook_id) throw new NotFoundError(`webhook of job "${job.name}" (add \`on: webhook\` to its spec)`);
    return c.json({ name: job.name, path: webhookPath(job.webhook_id), signed: await jobWebhookSecretIsSet(pool, job.id) });
  });

  r.put('/jobs/:name/webhook/secret', { tag: 'webhooks', access: 'developer', does: 'change webhooks', audit: 'webhook.secret_set', summary: 'Set (or generate) the HMAC-SHA256 secret of a job\'s webhook; shown once', body: WebhookSecretBody }, async (c) => {
    const job = await jobByNameOr404(deps, c.get('principal').projectId, c.req.param('name'));
    const body = await parseBody(c, WebhookSecretBody);
    if (!job.webhook_id) throw new HostrunError('conflict', `job "${job.name}" has no webhook: add \`on: webhook\` to its spec first`);
    const secret = body.secret ?? randomBytes(32).toString('base64url');
    await jobWebhookSecretSet(pool, job.id, secret);
    c.set('audit', { resourceId: job.name });
    return c.json({ name: job.name, path: webhookPath(job.webhook_id), signed: true, ...(body.secret ? {} : { secret }) });
  });

  r.delete('/jobs/:name/webhook/secret', { tag: 'webhooks', access: 'developer', does: 'change webhooks', audit: 'webhook.secret_delete', summary: 'Remove the secret: unsigned requests are accepted again' }, async (c) => {
    const job = await jobByNameOr404(deps, c.get('principal').projectId, c.req.param('name'));
    await jobWebhookSecretSet(pool, job.id, null);
    return c.json({ name: job.name, signed: false });
  });

  return r;
}
