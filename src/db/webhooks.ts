import type { Queryable } from './pool.ts';
import type { JobRow } from './jobs.ts';

// Webhook triggers: a job with `on: webhook` has an unguessable webhook id (jobs.webhook_id,
// set by jobApply) and optionally an HMAC secret; accepted signed deliveries are remembered so
// a replay is refused.

const JOB_COLUMNS = `id, project_id, name, description, spec, source, version, enabled, webhook_id, created_at, updated_at`;

// name: jobGetByWebhookId
// $1 webhook id. Any project: the id itself is the capability.
const JOB_GET_BY_WEBHOOK_ID_SQL = `
SELECT ${JOB_COLUMNS}, webhook_secret FROM hostrun.jobs WHERE webhook_id = $1`;

export async function jobGetByWebhookId(db: Queryable, webhookId: string): Promise<(JobRow & { webhook_secret: string | null }) | null> {
  const { rows } = await db.query<JobRow & { webhook_secret: string | null }>(JOB_GET_BY_WEBHOOK_ID_SQL, [webhookId]);
  return rows[0] ?? null;
}

// name: jobWebhookSecretSet
// $1 job id, $2 secret or null (no signature required).
const JOB_WEBHOOK_SECRET_SET_SQL = `UPDATE hostrun.jobs SET webhook_secret = $2 WHERE id = $1`;

export async function jobWebhookSecretSet(db: Queryable, jobId: string, secret: string | null): Promise<void> {
  await db.query(JOB_WEBHOOK_SECRET_SET_SQL, [jobId, secret]);
}

// name: jobWebhookSecretIsSet
// $1 job id.
const JOB_WEBHOOK_SECRET_IS_SET_SQL = `SELECT webhook_secret IS NOT NULL AS set FROM hostrun.jobs WHERE id = $1`;

export async function jobWebhookSecretIsSet(db: Queryable, jobId: string): Promise<boolean> {
  const { rows } = await db.query<{ set: boolean }>(JOB_WEBHOOK_SECRET_IS_SET_SQL, [jobId]);
  return rows[0]?.set ?? false;
}

// name: webhookDeliveryInsert
// $1 job id, $2 sha256 of the signature, $3 the sender's delivery id. Returns nothing when this
// signature was accepted before: the caller refuses the request as a replay.
const WEBHOOK_DELIVERY_INSERT_SQL = `
INSERT INTO hostrun.webhook_deliveries (job_id, signature_hash, delivery_id) VALUES ($1, $2, $3)
ON CONFLICT (job_id, signature_hash) DO NOTHING
RETURNING 1`;

export async function webhookDeliveryRecord(db: Queryable, jobId: string, signatureHash: Buffer, deliveryId: string | null): Promise<boolean> {
  const { rowCount } = await db.query(WEBHOOK_DELIVERY_INSERT_SQL, [jobId, signatureHash, deliveryId]);
  return (rowCount ?? 0) > 0;
}

// name: webhookDeliverySetRun
// $1 job id, $2 signature hash, $3 run id.
const WEBHOOK_DELIVERY_SET_RUN_SQL = `UPDATE hostrun.webhook_deliveries SET run_id = $3 WHERE job_id = $1 AND signature_hash = $2`;

export async function webhookDeliverySetRun(db: Queryable, jobId: string, signatureHash: Buffer, runId: number): Promise<void> {
  await db.query(WEBHOOK_DELIVERY_SET_RUN_SQL, [jobId, signatureHash, runId]);
}

// name: runTriggerPayloadSet
// $1 run id, $2 payload (jsonb). Called in the transaction that enqueued the run, so a worker
// never sees the run without its payload.
const RUN_TRIGGER_PAYLOAD_SET_SQL = `UPDATE hostrun.runs SET trigger_payload = $2 WHERE id = $1`;

export async function runTriggerPayloadSet(db: Queryable, runId: number, payload: unknown): Promise<void> {
  await db.query(RUN_TRIGGER_PAYLOAD_SET_SQL, [runId, JSON.stringify(payload)]);
}
