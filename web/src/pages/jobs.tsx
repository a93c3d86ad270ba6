import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useJobs, type JobListItem } from '../api/jobs.ts';
import { useSession } from '../app/session.tsx';
import { OptionsSelect } from '../components/options-select.tsx';
import { RunNowDialog } from '../components/run-now-dialog.tsx';
import { ScheduleWords } from '../components/schedule-words.tsx';
import { StatusChip } from '../components/status-chip.tsx';
import { Time } from '../components/time.tsx';
import { Button, Code, EmptyState, ErrorPanel, Input, PageHeader, Spinner, Table, TD, TH } from '../components/ui.tsx';

// /jobs: every job of the project with the state of its last run and when it next fires.
// Search and filters live in the URL, so a filtered list can be bookmarked and shared.

const STATE_FILTERS = [
  { value: '', label: 'All jobs' },
  { value: 'enabled', label: 'Enabled' },
  { value: 'disabled', label: 'Disabled' },
];

const LAST_STATUS_FILTERS = [
  { value: '', label: 'Any last run' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'failed', label: 'Failed or timed out' },
  { value: 'active', label: 'Queued or running' },
  { value: 'canceled', label: 'Canceled' },
  { value: 'never', label: 'Never run' },
];

function matchesLastStatus(job: JobListItem, filter: string): boolean {
  const s = job.last_run?.status;
  switch (filter) {
    case '':
      return true;
    case 'never':
      return !s;
    case 'failed':
      return s === 'failed' || s === 'timed_out';
    case 'active':
      return s === 'queued' || s === 'claimed' || s === 'running';
    default:
      return s === filter;
  }
}

export function JobsPage() {
  const { can } = useSession();
  const jobs = useJobs();
  const [params, setParams] = useSearchParams();
  const [runJob, setRunJob] = useState<string | null>(null);
  const q = params.get('q') ?? '';
  const state = params.get('state') ?? '';
  const last = params.get('last') ?? '';
  const setParam = (key: string, value: string) => {
    // From the address bar, not this render's params: two quick changes must not undo each other.
    const next = new URLSearchParams(window.location.search);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  const newJob = can('developer') ? (
    <Link to="/jobs/new" className="inline-flex items-center gap-1.5 rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
      New job
    </Link>
  ) : null;

  const all = jobs.data ?? [];
  const needle = q.trim().toLowerCase();
  const shown = [...all].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' })).filter(
    (j) =>
      (!needle || j.name.toLowerCase().includes(needle)) &&
      (state === '' || (state === 'enabled') === j.enabled) &&
      matchesLastStatus(j, last),
  );
  const filtered = needle !== '' || state !== '' || last !== '';

  return (
    <>
      <PageHeader title="Jobs" subtitle="What can run, where, and when it runs next." actions={newJob} />
      {jobs.isPending ? (
        <Spinner label="Loading jobs" />
      ) : jobs.isError ? (
        <ErrorPanel error={jobs.error} retry={() => void jobs.refetch()} />
      ) : all.length === 0 ? (
        <EmptyState title="No jobs yet" action={newJob}>
          <p>
            A job is a list of steps with inputs, a target and optional schedules.{' '}
            {can('developer') ? 'Write one here, or apply a file from a terminal:' : 'A developer can create one here, or from a terminal:'}
          </p>
          <p className="mt-2">
            <Code>hostrun job apply -f job.yaml</Code>
          </p>
        </EmptyState>
      ) : (
        <>
          <div className="mb-4 grid grid-cols-2 gap-3 sm:grid-cols-[minmax(0,1fr)_auto_auto]">
            <div className="col-span-2 sm:col-span-1">
              <label htmlFor="jobs-search" className="sr-only">
                Search jobs by name
              </label>
              <Input id="jobs-search" type="search" placeholder="Search by name" value={q} onChange={(e) => setParam('q', e.target.value)} />
            </div>
            <div>
              <label htmlFor="jobs-state" className="sr-only">
                Enabled or disabled
              </label>
              <OptionsSelect id="jobs-state" value={state} onValue={(v) => setParam('state', v)} options={STATE_FILTERS} />
            </div>
            <div>
              <label htmlFor="jobs-last" className="sr-only">
                Status of the last run
              </label>
              <OptionsSelect id="jobs-last" value={last} onValue={(v) => setParam('last', v)} options={LAST_STATUS_FILTERS} />
            </div>
          </div>
          {shown.length === 0 ? (
            <EmptyState title="No job matches these filters">
              <button type="button" className="font-medium text-indigo-600 hover:underline dark:text-indigo-400" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
                Clear the search and filters
              </button>
            </EmptyState>
          ) : (
            <JobsTable jobs={shown} onRun={can('developer') ? setRunJob : null} />
          )}
          <p className="mt-3 text-xs text-slate-500 dark:text-slate-400" aria-live="polite">
            {filtered ? `${shown.length} of ${all.length} jobs` : `${all.length} ${all.length === 1 ? 'job' : 'jobs'}`}
          </p>
        </>
      )}
      {runJob !== null && <RunNowDialog jobName={runJob} open onOpenChange={(open) => !open && setRunJob(null)} />}
    </>
  );
}

function JobsTable({ jobs, onRun }: { jobs: JobListItem[]; onRun: ((name: string) => void) | null }) {
  return (
    <Table label="Jobs">
      <thead className="bg-slate-50 dark:bg-slate-900/60">
        <tr>
          <th scope="col" className={TH}>
            Job
          </th>
          <th scope="col" className={TH}>
            Last run
          </th>
          <th scope="col" className={`${TH} hidden md:table-cell`}>
            Schedule
          </th>
          <th scope="col" className={`${TH} hidden sm:table-cell`}>
            Next run
          </th>
          {onRun && (
            // relative: keeps the screen-reader-only label inside the table's scroll area on a phone.
            <th scope="col" className={`${TH} relative hidden sm:table-cell`}>
              <span className="sr-only">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
        {jobs.map((j) => (
          <tr key={j.id} className="hover:bg-slate-50 dark:hover:bg-slate-800/40">
            <td className={`${TD} max-w-[13rem] sm:max-w-xs`}>
              <div className="flex items-center gap-2">
                <Link to={`/jobs/${encodeURIComponent(j.name)}`} className="truncate font-medium text-indigo-700 hover:underline dark:text-indigo-300">
                  {j.name}
                </Link>
                {!j.enabled && (
                  <span className="rounded-full bg-slate-200 px-2 py-0.5 text-xs font-medium text-slate-700 dark:bg-slate-800 dark:text-slate-300">disabled</span>
                )}
              </div>
              {j.description && <p className="mt-0.5 truncate text-xs text-slate-500 dark:text-slate-400">{j.description}</p>}
              <p className="mt-0.5 text-xs text-slate-500 md:hidden dark:text-slate-400">
                <ScheduleWords schedules={j.schedules} compact />
                {j.next_fire_at && (
                  <span className="sm:hidden">
                    {' · next '}
                    <Time at={j.next_fire_at} />
                  </span>
                )}
              </p>
            </td>
            <td className={`${TD} whitespace-nowrap`}>
              {j.last_run ? (
                <Link to={`/runs/${j.last_run.id}`} className="inline-flex items-center gap-2 hover:underline" aria-label={`Last run #${j.last_run.id}: ${j.last_run.status}`}>
                  <StatusChip status={j.last_run.status} />
                  <span className="hidden text-xs text-slate-500 sm:inline dark:text-slate-400">
                    <Time at={j.last_run.created_at} />
                  </span>
                </Link>
              ) : (
                <StatusChip status={null} />
              )}
            </td>
            <td className={`${TD} hidden text-slate-700 md:table-cell dark:text-slate-300`}>
              <ScheduleWords schedules={j.schedules} />
            </td>
            <td className={`${TD} hidden whitespace-nowrap sm:table-cell`}>
              {j.next_fire_at ? <Time at={j.next_fire_at} /> : <span className="text-slate-400">{!j.enabled && j.schedules.length > 0 ? 'off (disabled)' : '–'}</span>}
            </td>
            {onRun && (
              <td className={`${TD} hidden w-0 text-right sm:table-cell`}>
                <Button size="sm" onClick={() => onRun(j.name)} disabled={!j.enabled} aria-label={`Run ${j.name} now`} title={j.enabled ? undefined : 'Enable the job to run it'}>
                  Run
                </Button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
