import { Link } from 'react-router';
import { useDashboard, type Dashboard } from '../api/admin.ts';
import type { RunStatus } from '../api/types.ts';
import { useSession } from '../app/session.tsx';
import { RunsTable } from '../components/runs-table.tsx';
import { StatusChip } from '../components/status-chip.tsx';
import { Time } from '../components/time.tsx';
import { Card, Code, EmptyState, ErrorPanel, PageHeader, Spinner } from '../components/ui.tsx';

// The first page: how the last 24 hours went (by status and by hour), what is failing, what
// runs next, whether workers are there to run it, and the latest runs. One request
// (GET /reports/dashboard), refreshed by the live connection after every run event.

const STATUS_ORDER: RunStatus[] = ['succeeded', 'failed', 'timed_out', 'canceled', 'running', 'queued'];

const BAR: Record<string, string> = {
  succeeded: 'bg-green-500',
  failed: 'bg-red-500',
  timed_out: 'bg-slate-400',
  canceled: 'bg-slate-400',
  running: 'bg-blue-500',
  queued: 'bg-yellow-400',
};

export function DashboardPage() {
  const q = useDashboard();
  const { project } = useSession();

  return (
    <>
      <PageHeader
        title="Dashboard"
        subtitle={`Project ${project.name ?? project.slug} · last 24 hours`}
        actions={
          <Link to="/runs" className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">
            All runs →
          </Link>
        }
      />
      {q.isPending ? <Spinner /> : q.isError ? <ErrorPanel error={q.error} retry={() => void q.refetch()} /> : <DashboardBody d={q.data} />}
    </>
  );
}

function DashboardBody({ d }: { d: Dashboard }) {
  const { can } = useSession();
  if (d.jobs === 0 && d.recent_runs.length === 0) {
    return (
      <EmptyState
        title="Create your first job"
        action={
          can('developer') ? (
            <Link to="/jobs/new" className="inline-flex items-center rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
              New job
            </Link>
          ) : undefined
        }
      >
        <p>A job is a list of steps that runs here or on your hosts, by hand, on a schedule or from a webhook.</p>
        <p className="mt-2">
          Or from a terminal: <Code>hostrun job apply -f job.yaml</Code>
        </p>
      </EmptyState>
    );
  }
  const total = Object.values(d.by_status).reduce((a, b) => a + b, 0);
  const failed = d.by_status.failed + d.by_status.timed_out;
  const inFlight = d.by_status.queued + d.by_status.claimed + d.by_status.running;

  return (
    <div className="space-y-6">
      <div className="grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Stat label="Runs" value={String(total)} hint={inFlight > 0 ? `${inFlight} in progress` : 'none in progress'} />
        <Stat
          label="Success rate"
          value={d.success_rate === null ? '–' : `${Math.round(d.success_rate * 1000) / 10}%`}
          hint={d.success_rate === null ? 'no finished runs' : `${d.by_status.succeeded} of ${d.by_status.succeeded + failed} finished`}
          tone={d.success_rate === null ? undefined : d.success_rate >= 0.95 ? 'good' : d.success_rate >= 0.8 ? 'warn' : 'bad'}
        />
        <Stat label="Failed" value={String(failed)} hint={d.failing_jobs.length === 1 ? 'in 1 job' : `in ${d.failing_jobs.length} jobs`} tone={failed > 0 ? 'bad' : undefined} />
        <Link to="/workers" className="rounded-lg focus-visible:outline-2 focus-visible:outline-indigo-500">
          <Stat label="Workers online" value={String(d.workers_online)} hint={d.workers_online === 0 ? 'runs will wait in the queue' : 'see workers →'} tone={d.workers_online === 0 ? 'warn' : undefined} />
        </Link>
      </div>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Runs by status">
          <ul className="space-y-2.5" aria-label="Runs by status">
            {STATUS_ORDER.map((s) => {
              const n = s === 'queued' ? d.by_status.queued + d.by_status.claimed : d.by_status[s];
              return (
                <li key={s} className="grid grid-cols-[6.5rem_1fr_2.5rem] items-center gap-3">
                  <span>
                    <StatusChip status={s} />
                  </span>
                  <span className="h-2 overflow-hidden rounded-full bg-slate-100 dark:bg-slate-800" aria-hidden>
                    <span className={`block h-full rounded-full ${BAR[s]}`} style={{ width: total ? `${(n / total) * 100}%` : 0 }} />
                  </span>
                  <span className="text-right text-sm tabular-nums" data-testid={`count-${s}`}>
                    {n}
                  </span>
                </li>
              );
            })}
          </ul>
        </Card>
        <Card title="Runs per hour">
          <HourBars hours={d.hours} />
        </Card>
      </div>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Failing jobs">
          {d.failing_jobs.length === 0 ? (
            <p className="text-sm text-slate-500 dark:text-slate-400">No job failed in the last 24 hours.</p>
          ) : (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800" aria-label="Failing jobs">
              {d.failing_jobs.map((j) => (
                <li key={j.job_name} className="flex flex-wrap items-center justify-between gap-2 py-2 first:pt-0 last:pb-0">
                  <div className="min-w-0">
                    <Link to={`/jobs/${encodeURIComponent(j.job_name)}`} className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
                      {j.job_name}
                    </Link>
                    <p className="text-xs text-slate-500 dark:text-slate-400">
                      {j.failed} of {j.runs} runs failed · last <Time at={j.last_failed_at} />
                    </p>
                  </div>
                  <div className="flex items-center gap-2">
                    <span className="text-xs text-slate-500 dark:text-slate-400">last run</span>
                    <StatusChip status={j.last_status} />
                    <Link to={`/runs/${j.last_failed_run_id}`} className="text-xs text-slate-600 hover:underline dark:text-slate-300">
                      failed run #{j.last_failed_run_id}
                    </Link>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Next scheduled runs">
          {d.next_runs.length === 0 ? (
            <p className="text-sm text-slate-500 dark:text-slate-400">
              Nothing scheduled. Add <Code>on: schedule</Code> to a job to run it on a timetable.
            </p>
          ) : (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800" aria-label="Next scheduled runs">
              {d.next_runs.map((n) => (
                <li key={n.schedule_id} className="flex flex-wrap items-center justify-between gap-2 py-2 first:pt-0 last:pb-0">
                  <div className="min-w-0">
                    <Link to={`/jobs/${encodeURIComponent(n.job_name)}`} className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
                      {n.job_name}
                    </Link>
                    <p className="text-xs text-slate-500 dark:text-slate-400">{n.description}</p>
                  </div>
                  <span className="text-sm tabular-nums text-slate-700 dark:text-slate-300">
                    <Time at={n.next_fire_at} />
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>

      <section aria-labelledby="recent-runs">
        <h2 id="recent-runs" className="mb-2 text-sm font-semibold">
          Recent runs
        </h2>
        {d.recent_runs.length === 0 ? (
          <EmptyState title="No runs yet">Run a job from its page, or wait for its schedule.</EmptyState>
        ) : (
          <RunsTable label="Recent runs" runs={d.recent_runs} columns={['job', 'target']} />
        )}
      </section>
    </div>
  );
}

function Stat({ label, value, hint, tone }: { label: string; value: string; hint?: string; tone?: 'good' | 'warn' | 'bad' }) {
  const color = tone === 'good' ? 'text-green-700 dark:text-green-400' : tone === 'warn' ? 'text-amber-600 dark:text-amber-400' : tone === 'bad' ? 'text-red-600 dark:text-red-400' : '';
  return (
    <div className="h-full rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800">
      <p className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</p>
      <p className={`mt-1 text-2xl font-semibold tabular-nums ${color}`} aria-label={`${label}: ${value}`}>
        {value}
      </p>
      {hint && <p className="mt-0.5 truncate text-xs text-slate-500 dark:text-slate-400">{hint}</p>}
    </div>
  );
}

/** 24 stacked columns (succeeded, failed, other), each with its numbers in words for readers. */
function HourBars({ hours }: { hours: Dashboard['hours'] }) {
  const max = Math.max(1, ...hours.map((h) => h.succeeded + h.failed + h.other));
  const label = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return (
    <div>
      <ul className="flex h-32 items-end gap-[3px]" aria-label="Runs per hour">
        {hours.map((h) => {
          const total = h.succeeded + h.failed + h.other;
          const words = `${label(h.hour)}: ${total} runs, ${h.succeeded} succeeded, ${h.failed} failed, ${h.other} other`;
          return (
            <li key={h.hour} className="flex h-full min-w-0 flex-1 flex-col justify-end" title={words}>
              <span className="sr-only">{words}</span>
              <span className="flex flex-col-reverse overflow-hidden rounded-sm" style={{ height: `${(total / max) * 100}%` }} aria-hidden>
                <span className="bg-green-500" style={{ flexGrow: h.succeeded }} />
                <span className="bg-red-500" style={{ flexGrow: h.failed }} />
                <span className="bg-slate-400" style={{ flexGrow: h.other }} />
              </span>
              {total === 0 && <span className="h-px bg-slate-200 dark:bg-slate-700" aria-hidden />}
            </li>
          );
        })}
      </ul>
      <div className="mt-2 flex justify-between text-xs text-slate-500 dark:text-slate-400" aria-hidden>
        <span>{hours.length - 1} h ago</span>
        <span>now</span>
      </div>
      <p className="mt-2 flex flex-wrap gap-3 text-xs text-slate-600 dark:text-slate-300">
        <Legend color="bg-green-500" label="succeeded" />
        <Legend color="bg-red-500" label="failed or timed out" />
        <Legend color="bg-slate-400" label="other" />
      </p>
    </div>
  );
}

function Legend({ color, label }: { color: string; label: string }) {
  return (
    <span className="inline-flex items-center gap-1.5">
      <span className={`h-2.5 w-2.5 rounded-sm ${color}`} aria-hidden />
      {label}
    </span>
  );
}
