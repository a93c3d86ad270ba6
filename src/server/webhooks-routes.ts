import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ConflictError, HostrunError, NotFoundError } from '../core/errors.ts';
import { jobGetByWebhookId, webhookDeliveryRecord } from '../db/webhooks.ts';
import type { AppDeps } from './deps.ts';
import { Routes } from './operations.ts';
import { runCreate } from './run-create.ts';

// POST /api/v1/hooks/:id — a job's webhook trigger. The id (wh_ + 32 random bytes) is the
// capability; with a secret set, the body must also carry a GitHub-style signature
//   X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the secret>
// and a signed body is accepted once: the same signature again is a replay and is refused.
// The body becomes the run's `${{ trigger.payload }}` (JSON, or a string when it is not JSON).

const WEBHOOK_ID = /^wh_[A-Za-z0-9_-]{32}$/;
const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;

function payloadOf(raw: Buffer, contentType: string | undefined): unknown {
  const text = raw.toString('utf8');
  if (/\bjson\b/i.test(contentType ?? '')) {
    try {
      return text.trim() === '' ? null : (JSON.parse(text) as unknown);
    } catch {
      throw new HostrunError('invalid_request', 'the body is not valid JSON (Content-Type says it is)');
    }
  }
  // A form-encoded GitHub delivery carries the JSON in `payload=`.
  if (/application\/x-www-form-urlencoded/i.test(contentType ?? '')) {
    const form = new URLSearchParams(text).get('payload');
    if (form !== null) {
      try {
        return JSON.parse(form) as unknown;
      } catch {
        return form;
      }
    }
  }
  return text;
}

export function webhooksRoutes(deps: AppDeps): Routes {
  const r = new Routes();
  const { pool } = deps;

  r.post('/hooks/:id', { tag: 'webhooks', access: 'public', audit: 'webhook.trigger', summary: "Trigger a job's run (signed with X-Hub-Signature-256 when the job has a secret)", rawBody: 'application/json' }, async (c) => {
    const id = c.req.param('id');
    const job = WEBHOOK_ID.test(id) ? await jobGetByWebhookId(pool, id) : null;
    if (!job || !job.spec.webhook) throw new NotFoundError('webhook');
    const raw = Buffer.from(await c.req.arrayBuffer());

    let signatureHash: Buffer | null = null;
    if (job.webhook_secret) {
      const header = c.req.header('x-hub-signature-256');
      if (!header) throw new HostrunError('unauthorized', 'this webhook needs a signature: X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>');
      const match = SIGNATURE.exec(header.trim());
      const expected = createHmac('sha256', job.webhook_secret).update(raw).digest();
      if (!match || !timingSafeEqual(Buffer.from(match[1]!, 'hex'), expected)) {
        throw new HostrunError('unauthorized', 'the X-Hub-Signature-256 signature does not match the body');
      }
      signatureHash = createHash('sha256').update(expected).digest();
    }

    const payload = payloadOf(raw, c.req.header('content-type'));
    const deliveryId = (c.req.header('x-github-delivery') ?? c.req.header('x-hostrun-delivery'))?.slice(0, 200) ?? null;
    const run = await runCreate(pool, {
      projectId: job.project_id,
      job,
      inputs: {},
      trigger: 'webhook',
      payload,
      beforeCommit: async (tx) => {
        if (signatureHash && !(await webhookDeliveryRecord(tx, job.id, signatureHash, deliveryId))) {
          throw new ConflictError('this signed delivery was accepted before: replays are refused');
        }
      },
    });
    c.set('audit', {
      actor: { label: 'webhook' },
      projectId: job.project_id,
      resourceType: 'run',
      resourceId: String(run.id),
      details: { job: job.name, signed: signatureHash !== null, ...(deliveryId ? { delivery: deliveryId } : {}) },
    });
    return c.json({ run_id: run.id, status: run.status }, 202);
  });

  return r;
}
