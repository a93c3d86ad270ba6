import { ConflictError, HostrunError } from '../core/errors.ts';
import { validateRunInputs } from '../core/spec.ts';
import type { RunTrigger } from '../core/types.ts';
import type { JobRow } from '../db/jobs.ts';
import { withTransaction, type Pool, type PoolClient } from '../db/pool.ts';
import { runGet, type RunRow } from '../db/runs.ts';
import { runTriggerPayloadSet } from '../db/webhooks.ts';
import { runEnqueue, runsEnqueue } from '../queue/enqueue.ts';

// "Run now": the one path by which the API creates a run, for /api/v1, re-runs, webhooks and
// the seed's /api/run.

export interface RunCreateRequest {
  projectId: string;
  job: JobRow;
  /** Overrides as the client sent them; checked against the job's inputs before anything is written. */
  inputs: Record<string, unknown>;
  trigger: Extract<RunTrigger, 'manual' | 'api' | 'webhook' | 'rerun'>;
  priority?: number;
  createdBy?: string | null;
  parentRunId?: number;
  /** A webhook's body, for `${{ trigger.payload }}`. */
  payload?: unknown;
  /** Runs in the enqueuing transaction; throwing undoes the run (a webhook replay check). */
  beforeCommit?: (tx: PoolClient, runId: number) => Promise<void>;
}

export async function runCreate(pool: Pool, req: RunCreateRequest): Promise<RunRow> {
  const { job } = req;
  if (!job.enabled) throw new ConflictError(`job "${job.name}" is disabled: enable it first (hostrun job enable ${job.name})`);
  // Throws InputError: a rejected request creates no run at all.
  const inputs = validateRunInputs(job.spec, req.inputs);
  const request = {
    projectId: req.projectId,
    job: { id: job.id, name: job.name, version: job.version, spec: job.spec },
    inputs,
    trigger: req.trigger,
    ...(req.priority === undefined ? {} : { priority: req.priority }),
    ...(req.createdBy ? { createdBy: req.createdBy } : {}),
    ...(req.parentRunId === undefined ? {} : { parentRunId: req.parentRunId }),
  };
  // The payload is written in the transaction that enqueues, so no worker can claim the run
  // before its payload is there (the queue's NOTIFY is delivered at commit). Without one, the
  // run shares its INSERT with concurrent requests (runEnqueue).
  const id =
    req.payload === undefined && !req.beforeCommit
      ? await runEnqueue(pool, request)
      : await withTransaction(pool, async (tx) => {
          const [runId] = await runsEnqueue(tx, [request]);
          if (runId !== undefined && req.payload !== undefined) await runTriggerPayloadSet(tx, runId, req.payload);
          if (runId !== undefined && req.beforeCommit) await req.beforeCommit(tx, runId);
          return runId;
        });
  const run = id === undefined ? null : await runGet(pool, req.projectId, id);
  if (!run) throw new HostrunError('internal', 'the run was not created');
  return run;
}
