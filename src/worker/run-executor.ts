import type { JobSpec, RunStatus, StepSpec, StepStatus } from '../core/types.ts';
import { evaluateCondition, interpolateText, type ExprContext } from '../core/expressions.ts';
import { assembleScript, renderStepScript } from '../core/script.ts';
import { parseStepOutputs } from '../core/step-outputs.ts';
import type { Executor, RunSession, StepOutcome } from '../executors/types.ts';
import type { Masker } from '../secrets/mask.ts';
import type { LogWriter, RunLog } from './log-writer.ts';
import type { StepWriter } from './step-writer.ts';

// Executes the steps of one run attempt in order, GitHub-Actions style: `if:` decides whether
// a step runs (default `success()`), `continue-on-error` keeps a failure from failing the
// run, step outputs flow into later steps through `$HOSTRUN_OUTPUT`.

/** Why a run was stopped. `lost`/`shutdown`: stop quietly, the run is not ours to finish. */
export type AbortReason = 'canceled' | 'timed_out' | 'lost' | 'shutdown';

/**
 * Stops a run: the first reason given is kept. The AbortSignal that processes and sleeps wait
 * on is made only when a step asks for it: most runs never stop early, and an AbortController
 * per run was a tenth of a busy worker's CPU on runs of built-in steps.
 */
export class RunAbort {
  reason: AbortReason | undefined = undefined;
  private controller: AbortController | null = null;

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  abort(reason: AbortReason): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
}

export interface RunToExecute {
  id: number;
  attempt: number;
  jobName: string;
  inputs: Record<string, unknown>;
  timeoutSeconds: number | null;
  /** The webhook request's body, for `${{ trigger.payload }}`. */
  triggerPayload?: unknown;
}

export interface RunExecutionDeps {
  /** The run's target: local, or a host over SSH. */
  executor: Executor;
  logs: LogWriter;
  steps: StepWriter;
  /** Base environment for local step processes (an allowlist of the worker's own). */
  baseEnv: Record<string, string>;
  /** Secret values the run may use, by name (already opened). */
  secrets: Record<string, string>;
  /** Hides those values (and credentials) in everything the run writes. */
  masker: Masker;
  /** Stores the files steps left in $HOSTRUN_ARTIFACTS (at most `maxBytes` per run). */
  artifacts: { maxBytes: number; store(files: { key: string; content: Buffer }[]): Promise<void> };
  keepWorkDir?: boolean;
}

export interface RunResult {
  status: Extract<RunStatus, 'succeeded' | 'failed' | 'timed_out' | 'canceled'>;
  exitCode: number | null;
  error: string | null;
  outputs: Record<string, Record<string, string>>;
  /** Set when the run was taken away (lease lost) or interrupted by shutdown: write nothing. */
  abandoned?: AbortReason;
}

export async function executeRun(
  run: RunToExecute,
  spec: JobSpec,
  log: RunLog,
  abort: RunAbort,
  deps: RunExecutionDeps,
): Promise<RunResult> {
  const stepOutputs: Record<string, Record<string, string>> = {};
  const stepOutcomes: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {};
  let failed = false;
  let timedOut = false;
  let failure: { exitCode: number | null; error: string } | null = null;

  const runTimer =
    run.timeoutSeconds && run.timeoutSeconds > 0
      ? setTimeout(() => abort.abort('timed_out'), run.timeoutSeconds * 1000)
      : null;
  runTimer?.unref();

  // Only steps that start a process (or a checkout) need a directory; built-in steps touch no disk.
  const needsDir = spec.repository !== undefined || spec.steps.some((s) => s.run !== undefined);

  // Every step is on record from the start, so a viewer sees what is still to come.
  spec.steps.forEach((step, idx) =>
    deps.steps.update({ runId: run.id, attempt: run.attempt, idx, stepId: step.id, name: step.name, status: 'pending' }),
  );

  let session: RunSession;
  try {
    session = await deps.executor.openRun({ id: run.id, attempt: run.attempt, needsDir });
  } catch (err) {
    if (runTimer) clearTimeout(runTimer);
    const message = deps.masker.mask((err as Error).message);
    deps.logs.system(log, null, `[hostrun] ${message}`);
    spec.steps.forEach((step, idx) =>
      deps.steps.update({ runId: run.id, attempt: run.attempt, idx, stepId: step.id, name: step.name, status: 'skipped' }),
    );
    return { status: 'failed', exitCode: null, error: message, outputs: stepOutputs };
  }

  try {
    if (spec.repository) {
      const checkout = await checkoutRepository(run, spec, session, log, abort, deps);
      if (checkout) {
        failed = true;
        failure = { exitCode: checkout.exitCode, error: checkout.error };
      }
    }
    // One context for the run; what changes from step to step (the outcome so far, earlier
    // steps) is updated in place before each step reads it.
    const outcomeSoFar = { failed, cancelled: false };
    const ctx: ExprContext = {
      inputs: run.inputs as ExprContext['inputs'],
      secrets: deps.secrets,
      env: spec.env,
      steps: stepOutcomes,
      run: { id: run.id, attempt: run.attempt },
      job: { name: run.jobName },
      trigger: run.triggerPayload === undefined ? {} : { payload: run.triggerPayload },
      status: outcomeSoFar,
    };
    for (let idx = 0; idx < spec.steps.length; idx++) {
      const step = spec.steps[idx]!;
      const reason = abort.reason;
      if (reason === 'lost' || reason === 'shutdown') return abandon(reason);
      outcomeSoFar.failed = failed;
      outcomeSoFar.cancelled = abort.aborted;
      let shouldRun: boolean;
      try {
        // No `if:` is success() (evaluateCondition), without parsing one.
        shouldRun = evaluateCondition(step.if, ctx);
      } catch (err) {
        shouldRun = false;
        failed = true;
        failure ??= { exitCode: null, error: `step ${idx + 1} (${step.name}): if: ${(err as Error).message}` };
      }
      if (!shouldRun) {
        deps.steps.update({ runId: run.id, attempt: run.attempt, idx, stepId: step.id, name: step.name, status: 'skipped' });
        stepOutcomes[step.id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
        continue;
      }

      const startedAt = Date.now();
      deps.steps.update({ runId: run.id, attempt: run.attempt, idx, stepId: step.id, name: step.name, status: 'running', startedAt });
      const result = await executeStep(run, spec, step, idx, ctx, session, log, abort, deps);
      deps.logs.endStep(log, idx);

      const abortReason = abort.reason;
      if (abortReason === 'lost' || abortReason === 'shutdown') return abandon(abortReason);

      let status: StepStatus;
      if (result.timedOut) status = 'timed_out';
      else if (abortReason === 'canceled') status = 'canceled';
      else if (abortReason === 'timed_out') status = 'timed_out';
      else status = result.exitCode === 0 && !result.error ? 'succeeded' : 'failed';

      deps.steps.update({
        runId: run.id,
        attempt: run.attempt,
        idx,
        stepId: step.id,
        name: step.name,
        status,
        exitCode: result.exitCode,
        startedAt,
        finishedAt: Date.now(),
        outputs: Object.keys(result.outputs).length > 0 ? deps.masker.maskDeep(result.outputs) : null,
        error: result.error ? deps.masker.mask(result.error) : null,
      });
      stepOutputs[step.id] = result.outputs;
      const outcome = status === 'succeeded' ? 'success' : status === 'canceled' ? 'cancelled' : 'failure';
      stepOutcomes[step.id] = {
        outputs: result.outputs,
        outcome,
        conclusion: outcome === 'failure' && step.continueOnError ? 'success' : outcome,
      };

      if (status !== 'succeeded' && status !== 'canceled' && !step.continueOnError) {
        failed = true;
        if (status === 'timed_out') timedOut = true;
        failure ??= {
          exitCode: result.exitCode,
          error:
            result.error ??
            (status === 'timed_out'
              ? `step ${idx + 1} (${step.name}) timed out`
              : `step ${idx + 1} (${step.name}) failed with exit code ${result.exitCode ?? `signal ${result.signal}`}`),
        };
      }
    }
    await storeArtifacts(session, log, abort, deps);
  } finally {
    if (runTimer) clearTimeout(runTimer);
    await session.close({ keepWorkDir: deps.keepWorkDir ?? false }).catch(() => {});
  }

  const reason = abort.reason;
  if (reason === 'lost' || reason === 'shutdown') return abandon(reason);
  if (reason === 'canceled') {
    return { status: 'canceled', exitCode: failure?.exitCode ?? null, error: 'canceled', outputs: stepOutputs };
  }
  if (reason === 'timed_out') {
    return { status: 'timed_out', exitCode: null, error: `timed out after ${run.timeoutSeconds} s`, outputs: stepOutputs };
  }
  if (failed) {
    return { status: timedOut ? 'timed_out' : 'failed', exitCode: failure?.exitCode ?? 1, error: failure?.error ?? 'failed', outputs: stepOutputs };
  }
  return { status: 'succeeded', exitCode: 0, error: null, outputs: stepOutputs };

  function abandon(reason: AbortReason): RunResult {
    return { status: 'failed', exitCode: null, error: null, outputs: stepOutputs, abandoned: reason };
  }
}

interface StepResult extends StepOutcome {
  outputs: Record<string, string>;
  timedOut: boolean;
}

async function executeStep(
  run: RunToExecute,
  spec: JobSpec,
  step: StepSpec,
  idx: number,
  ctx: ExprContext,
  session: RunSession,
  log: RunLog,
  abort: RunAbort,
  deps: RunExecutionDeps,
): Promise<StepResult> {
  // A built-in no-op finishes here: nothing to abort, time or clean up.
  if (step.uses === 'noop') return { exitCode: 0, signal: null, outputs: {}, timedOut: false };
  // A step's own timeout aborts only the step; the run's abort (cancel, job timeout) aborts it too.
  const stepController = new AbortController();
  const runSignal = abort.signal;
  let timedOut = false;
  const onRunAbort = () => stepController.abort(runSignal.reason);
  if (runSignal.aborted) onRunAbort();
  else runSignal.addEventListener('abort', onRunAbort, { once: true });
  const stepTimer = step.timeoutMinutes
    ? setTimeout(() => {
        timedOut = true;
        stepController.abort('timed_out');
      }, step.timeoutMinutes * 60_000)
    : null;

  try {
    if (step.uses === 'sleep') {
      const ms = Number(step.with?.ms ?? 0);
      await abortableSleep(ms, stepController.signal);
      return { exitCode: stepController.signal.aborted ? null : 0, signal: null, outputs: {}, timedOut };
    }

    const shell = step.shell ?? spec.shell ?? session.defaultShell;
    const outputFile = session.join(session.controlDir, `output-${idx}`);
    const env: Record<string, string> = {};
    try {
      // env values go into the preamble with the shell's quoting, so secrets may be revealed here.
      for (const [k, v] of Object.entries({ ...spec.env, ...step.env })) env[k] = interpolateText(v, ctx, { revealSecrets: true });
    } catch (err) {
      return { exitCode: null, signal: null, error: `step ${idx + 1} (${step.name}): env: ${(err as Error).message}`, outputs: {}, timedOut };
    }
    const runtime = {
      HOSTRUN_RUN_ID: String(run.id),
      HOSTRUN_RUN_ATTEMPT: String(run.attempt),
      HOSTRUN_JOB_NAME: run.jobName,
      HOSTRUN_WORKSPACE: session.workDir,
      HOSTRUN_OUTPUT: outputFile,
      HOSTRUN_ARTIFACTS: session.join(session.controlDir, 'artifacts'),
    };
    let script: string;
    try {
      script = assembleScript(shell, renderStepScript(step.run ?? '', shell, ctx, { ...env, ...runtime }));
    } catch (err) {
      return { exitCode: null, signal: null, error: `step ${idx + 1} (${step.name}): ${(err as Error).message}`, outputs: {}, timedOut };
    }

    const cwd = resolveWorkingDirectory(session, step.workingDirectory ?? spec.workingDirectory);
    const outcome = await session.runStep({
      stepIdx: idx,
      script,
      shell,
      cwd,
      env: { ...deps.baseEnv, ...runtime },
      signal: stepController.signal,
      onOutput: (stream, chunk) => deps.logs.write(log, idx, stream, chunk),
    });
    if (outcome.error) deps.logs.system(log, idx, `[hostrun] ${outcome.error}`);
    const outputs = parseStepOutputs(await session.readFile(outputFile));
    return { ...outcome, outputs, timedOut };
  } finally {
    if (stepTimer) clearTimeout(stepTimer);
    runSignal.removeEventListener('abort', onRunAbort);
  }
}

/** Artifact keys are relative paths of plain names: nothing that could climb out or hide. */
const ARTIFACT_KEY = /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

/** Whatever the steps left in $HOSTRUN_ARTIFACTS is kept with the run, also when it failed. */
async function storeArtifacts(session: RunSession, log: RunLog, abort: RunAbort, deps: RunExecutionDeps): Promise<void> {
  const reason = abort.reason;
  if (!session.controlDir || reason === 'lost' || reason === 'shutdown') return;
  const { files, skipped } = await session.collectFiles(session.join(session.controlDir, 'artifacts'), deps.artifacts.maxBytes);
  const kept = files.filter((f) => ARTIFACT_KEY.test(f.key));
  for (const f of files) if (!kept.includes(f)) deps.logs.system(log, null, `[hostrun] artifact ${f.key} not kept: names may use letters, digits, . _ - and /`);
  for (const key of skipped) deps.logs.system(log, null, `[hostrun] artifact ${key} not kept: over the ${deps.artifacts.maxBytes / 2 ** 20} MiB per run (HOSTRUN_ARTIFACT_MAX_MB)`);
  if (kept.length === 0) return;
  try {
    await deps.artifacts.store(kept);
  } catch (err) {
    // Losing artifacts must not lose the run's outcome: say so in its log and carry on.
    deps.logs.system(log, null, `[hostrun] could not keep artifacts: ${deps.masker.mask((err as Error).message)}`);
    return;
  }
  deps.logs.system(log, null, `[hostrun] kept ${kept.length} artifact${kept.length > 1 ? 's' : ''}: ${kept.map((f) => f.key).join(', ')}`);
}

function resolveWorkingDirectory(session: RunSession, dir: string | undefined): string {
  if (!dir) return session.workDir;
  const absolute = session.os === 'windows' ? /^[A-Za-z]:[\\/]|^\\\\/.test(dir) : dir.startsWith('/');
  return absolute ? dir : session.join(session.workDir, dir);
}

/**
 * `repository:` is cloned into the work directory before the first step, by a script like any
 * other: URL and ref travel as variables in the preamble, never spliced into the command.
 * Returns the failure, if any.
 */
async function checkoutRepository(
  run: RunToExecute,
  spec: JobSpec,
  session: RunSession,
  log: RunLog,
  abort: RunAbort,
  deps: RunExecutionDeps,
): Promise<{ exitCode: number | null; error: string } | null> {
  const repo = spec.repository!;
  const shell = session.os === 'windows' ? 'powershell' : 'bash';
  const body =
    shell === 'bash'
      ? 'git clone --quiet --depth 1 ${HOSTRUN_REPO_REF:+--branch "$HOSTRUN_REPO_REF"} -- "$HOSTRUN_REPO_URL" .\n'
      : 'if ($env:HOSTRUN_REPO_REF) { git clone --quiet --depth 1 --branch $env:HOSTRUN_REPO_REF -- $env:HOSTRUN_REPO_URL . } else { git clone --quiet --depth 1 -- $env:HOSTRUN_REPO_URL . }\nif ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }\n';
  deps.logs.system(log, null, `[hostrun] checking out ${repo.url}${repo.ref ? ` (${repo.ref})` : ''}`);
  const script = assembleScript(shell, renderStepScript(body, shell, {}, { HOSTRUN_REPO_URL: repo.url, HOSTRUN_REPO_REF: repo.ref ?? '', GIT_TERMINAL_PROMPT: '0' }));
  const outcome = await session.runStep({
    stepIdx: null,
    script,
    shell,
    cwd: session.workDir,
    env: { ...deps.baseEnv, HOSTRUN_RUN_ID: String(run.id) },
    signal: abort.signal,
    onOutput: (stream, chunk) => deps.logs.write(log, null, stream, chunk),
  });
  deps.logs.endStep(log, null);
  if (outcome.exitCode === 0 && !outcome.error) return null;
  return { exitCode: outcome.exitCode, error: deps.masker.mask(outcome.error ?? `checking out ${repo.url} failed with exit code ${outcome.exitCode}`) };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
