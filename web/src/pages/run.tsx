import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { isActive, logDownloadUrl, membersList, runGet, runKeys, runSteps, type RunDetail } from '../api/runs.ts';
import type { RunStatus } from '../api/types.ts';
import { useRunEvents } from '../app/live.tsx';
import { useSession } from '../app/session.tsx';
import { LogView } from '../components/log-view.tsx';
import { RunActions } from '../components/run-actions.tsx';
import { RunNowDialog } from '../components/run-now-dialog.tsx';
import { useRunLog } from '../components/run-log-stream.ts';
import { RunSteps } from '../components/run-steps.tsx';
import { StatusChip } from '../components/status-chip.tsx';
import { formatDuration, runDuration, Time, useNow } from '../components/time.tsx';
import { Card, Code, EmptyState, ErrorPanel, PageHeader, Spinner } from '../components/ui.tsx';

// One run: what it is (job, status, trigger, who and when, duration, attempt, exit code,
// error), its steps, the inputs it used, and its log, live while it runs. The status changes
// the moment the live connection reports it (then the run is refetched); the log streams
// from the run's own SSE endpoint.

const TRIGGER_WORDS: Record<string, string> = {
  manual: 'Run now',
  schedule: 'Schedule',
  webhook: 'Webhook',
  api: 'API',
  retry: 'Retry',
  rerun: 'Re-run',
  host_test: 'Host test',
};

export function RunPage() {
  const { id: rawId } = useParams();
  const id = Number(rawId);
  if (!Number.isSafeInteger(id) || id <= 0) {
    return <EmptyState title="No such run" action={<Link className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400" to="/runs">All runs</Link>} />;
  }
  return <RunView key={id} id={id} />;
}

function RunView({ id }: { id: number }) {
  const queryClient = useQueryClient();
  const { project, can } = useSession();
  const [editing, setEditing] = useState(false);
  const run = useQuery({ queryKey: runKeys.one(id), queryFn: ({ signal }) => runGet(id, signal) });
  const active = run.data ? isActive(run.data.status) : true;
  const steps = useQuery({
    queryKey: runKeys.steps(id),
    queryFn: ({ signal }) => runSteps(id, signal),
    // Steps move on without a run status change; the log stream says when a new step speaks,
    // and this catches steps that print nothing.
    refetchInterval: active ? 3000 : false,
  });

  const patchStatus = (status: RunStatus, attempt?: number) =>
    queryClient.setQueryData<RunDetail>(runKeys.one(id), (old) => (old && (old.status !== status || (attempt && old.attempt !== attempt)) ? { ...old, status, ...(attempt ? { attempt } : {}) } : old));

  useRunEvents((e) => {
    if (e.run_id === id) patchStatus(e.to_status, e.attempt);
  });

  const log = useRunLog(id, {
    onStatus: (s) => {
      patchStatus(s);
      void queryClient.invalidateQueries({ queryKey: runKeys.one(id) });
    },
    onEnd: (end) => {
      queryClient.setQueryData<RunDetail>(runKeys.one(id), (old) => (old ? { ...old, status: end.status, exit_code: end.exit_code, error: end.error } : old));
      void queryClient.invalidateQueries({ queryKey: runKeys.one(id) });
      void queryClient.invalidateQueries({ queryKey: runKeys.steps(id) });
    },
    onNewStep: () => void queryClient.invalidateQueries({ queryKey: runKeys.steps(id) }),
  });

  const stepList = steps.data ?? run.data?.steps ?? [];
  const stepNames = useMemo(() => new Map(stepList.map((s) => [s.idx, s.name])), [stepList]);
  const tick = useNow(active ? 1000 : 60_000);
  const now = Math.max(tick, Date.now());

  if (run.isPending) return <Spinner label="Loading the run" />;
  if (run.isError) {
    if (run.error instanceof ApiError && run.error.status === 404) {
      return (
        <EmptyState title={`Run #${id} does not exist in this project`} action={<Link className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400" to="/runs">See all runs</Link>}>
          It may belong to another project: switch projects in the menu.
        </EmptyState>
      );
    }
    return <ErrorPanel error={run.error} retry={() => void run.refetch()} />;
  }
  const r = run.data;

  return (
    <div>
      <nav aria-label="Breadcrumb" className="mb-1 text-sm text-slate-500 dark:text-slate-400">
        <Link to="/runs" className="hover:underline">
          Runs
        </Link>{' '}
        / #{r.id}
      </nav>
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            <span>
              Run #{r.id} of{' '}
              <Link to={`/jobs/${encodeURIComponent(r.job_name)}`} className="text-indigo-600 hover:underline dark:text-indigo-400">
                {r.job_name}
              </Link>
            </span>
            <StatusChip status={r.status} />
          </span>
        }
        subtitle={
          <>
            Job version {r.job_version}
            {r.parent_run_id !== null && (
              <>
                {' · re-run of '}
                <Link to={`/runs/${r.parent_run_id}`} className="text-indigo-600 hover:underline dark:text-indigo-400">
                  #{r.parent_run_id}
                </Link>
              </>
            )}
          </>
        }
        actions={<RunActions run={r} onRerunWithChanges={can('developer') ? () => setEditing(true) : null} />}
      />
      <p className="sr-only" aria-live="polite">
        Run status: {r.status.replace('_', ' ')}
      </p>
      {can('developer') && <RunNowDialog jobName={r.job_name} open={editing} onOpenChange={setEditing} initialInputs={r.inputs} rerunOf={r.id} />}
      <div className="space-y-6">
        <RunSummary run={r} now={now} />

        {r.error && (
          <div role="alert" className="rounded-lg bg-red-50 px-4 py-3 text-sm text-red-800 ring-1 ring-red-200 dark:bg-red-950/40 dark:text-red-200 dark:ring-red-900">
            <span className="font-semibold">{r.status === 'canceled' ? 'Canceled: ' : r.status === 'timed_out' ? 'Timed out: ' : 'Failed: '}</span>
            {r.error}
          </div>
        )}

        <div className="grid gap-6 lg:grid-cols-3">
          {/* On a phone: steps, then the log, then the inputs. */}
          <div className="contents min-w-0 lg:col-span-1 lg:block lg:space-y-6">
            <section className="order-1 overflow-hidden rounded-lg bg-white shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800" aria-labelledby="steps-title">
              <h2 id="steps-title" className="border-b border-slate-200 px-4 py-3 text-sm font-semibold dark:border-slate-800">
                Steps
              </h2>
              {steps.isError && !r.steps ? (
                <div className="p-4">
                  <ErrorPanel error={steps.error} retry={() => void steps.refetch()} />
                </div>
              ) : (
                <RunSteps steps={stepList} lines={log.lines} now={now} />
              )}
            </section>
            <Card title="Inputs used" className="order-3">
              <RunInputs inputs={r.inputs} />
            </Card>
          </div>
          <div className="order-2 min-w-0 lg:order-none lg:col-span-2">
            <LogView runId={r.id} log={log} stepNames={stepNames} downloadUrl={logDownloadUrl(r.id, project.slug)} running={active} />
          </div>
        </div>
      </div>
    </div>
  );
}

function RunSummary({ run, now }: { run: RunDetail; now: number }) {
  const { me } = useSession();
  const members = useQuery({ queryKey: ['run-members'], queryFn: ({ signal }) => membersList(signal), staleTime: 300_000, enabled: run.created_by !== null && run.created_by !== me.user?.id });
  let who: ReactNode = null;
  if (run.created_by && run.created_by === me.user?.id) who = 'you';
  else if (run.created_by) {
    const m = members.data?.find((x) => x.user_id === run.created_by);
    who = m ? (m.name ?? m.email) : 'a user';
  }
  const duration = runDuration(run, now);
  return (
    <dl className="grid grid-cols-2 gap-px overflow-hidden rounded-lg bg-slate-200 shadow-sm ring-1 ring-slate-200 sm:grid-cols-3 lg:grid-cols-6 dark:bg-slate-800 dark:ring-slate-800">
      <Fact label="Trigger">
        {TRIGGER_WORDS[run.trigger] ?? run.trigger}
        {who && <span className="text-slate-500 dark:text-slate-400"> by {who}</span>}
      </Fact>
      <Fact label="Created">
        <Time at={run.created_at} now={now} />
      </Fact>
      <Fact label="Duration">
        <span className="tabular-nums">{duration === null ? (run.status === 'queued' || run.status === 'claimed' ? 'not started' : '–') : formatDuration(Math.max(0, duration))}</span>
      </Fact>
      <Fact label="Attempt">
        <span className="tabular-nums">
          {run.attempt} of {run.max_attempts}
        </span>
      </Fact>
      <Fact label="Exit code">
        <span className={`tabular-nums ${run.exit_code ? 'font-semibold text-red-700 dark:text-red-300' : ''}`}>{run.exit_code ?? '–'}</span>
      </Fact>
      <Fact label="Target">
        <span className="break-all">{run.target}</span>
      </Fact>
    </dl>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="bg-white px-4 py-3 dark:bg-slate-900">
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="mt-1 text-sm">{children}</dd>
    </div>
  );
}

function RunInputs({ inputs }: { inputs: Record<string, unknown> }) {
  const entries = Object.entries(inputs ?? {});
  if (entries.length === 0) return <p className="text-sm text-slate-500 dark:text-slate-400">This run had no inputs.</p>;
  return (
    <dl className="space-y-2 text-sm">
      {entries.map(([k, v]) => (
        <div key={k} className="flex flex-wrap items-baseline gap-x-2">
          <dt className="font-mono text-xs text-slate-500 dark:text-slate-400">{k}</dt>
          <dd className="min-w-0 break-all">
            <Code>{typeof v === 'string' ? v : JSON.stringify(v)}</Code>
          </dd>
        </div>
      ))}
    </dl>
  );
}
