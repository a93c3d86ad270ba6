import * as Tabs from '@radix-ui/react-tabs';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { api, ApiError, errorMessage } from '../api/client.ts';
import { jobPath, useJob, type Job } from '../api/jobs.ts';
import { useSession } from '../app/session.tsx';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { JobRuns, JobVersions } from '../components/job-history.tsx';
import { JobOverview } from '../components/job-overview.tsx';
import { JobSpecEditor } from '../components/job-spec-editor.tsx';
import { RunNowDialog } from '../components/run-now-dialog.tsx';
import { Time } from '../components/time.tsx';
import { useToast } from '../components/toast.tsx';
import { Button, EmptyState, ErrorPanel, PageHeader, Spinner } from '../components/ui.tsx';

// /jobs/:name: a job's overview (schedules, inputs, steps, webhook), its definition in the
// editor, its versions with a diff, and its recent runs; Run now, enable/disable and delete
// for developers. The tab is in the URL (?tab=definition) so it survives a reload.

const TABS = [
  { value: 'overview', label: 'Overview' },
  { value: 'definition', label: 'Definition' },
  { value: 'versions', label: 'Versions' },
  { value: 'runs', label: 'Recent runs' },
] as const;

export function JobPage() {
  const name = useParams().name ?? '';
  const job = useJob(name);
  if (job.isPending) return <Spinner label="Loading the job" />;
  if (job.isError) {
    if (job.error instanceof ApiError && job.error.status === 404) {
      return (
        <EmptyState
          title={`There is no job named “${name}”`}
          action={
            <Link to="/jobs" className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">
              Back to jobs
            </Link>
          }
        >
          It may have been deleted or renamed, or it belongs to another project.
        </EmptyState>
      );
    }
    return <ErrorPanel error={job.error} retry={() => void job.refetch()} />;
  }
  return <JobView job={job.data} />;
}

function JobView({ job }: { job: Job }) {
  const { can } = useSession();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const tab = TABS.some((t) => t.value === params.get('tab')) ? params.get('tab')! : 'overview';
  const [runOpen, setRunOpen] = useState(false);
  const [deleteOpen, setDeleteOpen] = useState(false);
  const toast = useToast();
  const queryClient = useQueryClient();

  const toggle = useMutation({
    mutationFn: () => api.post(`${jobPath(job.name)}/${job.enabled ? 'disable' : 'enable'}`),
    onSuccess: () => {
      toast(job.enabled ? `${job.name} disabled: its schedules stop firing` : `${job.name} enabled`);
      void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] === 'jobs' || q.queryKey[0] === 'job' });
    },
    onError: (err) => toast(errorMessage(err), 'error'),
  });

  const developer = can('developer');
  return (
    <>
      <PageHeader
        title={
          <span className="flex items-center gap-3">
            <span className="min-w-0 truncate">
              <Link to="/jobs" className="font-normal text-slate-500 hover:underline dark:text-slate-400">
                Jobs
              </Link>
              <span className="px-2 font-normal text-slate-400" aria-hidden>
                /
              </span>
              {job.name}
            </span>
            <span
              className={`rounded-full px-2 py-0.5 text-xs font-medium ${job.enabled ? 'bg-green-100 text-green-800 dark:bg-green-900/40 dark:text-green-200' : 'bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300'}`}
            >
              {job.enabled ? 'enabled' : 'disabled'}
            </span>
          </span>
        }
        subtitle={
          <>
            {job.description ?? 'No description'}
            {' · '}version {job.version}, saved <Time at={job.updated_at} />
          </>
        }
        actions={
          developer ? (
            <>
              <Button variant="ghost" onClick={() => toggle.mutate()} disabled={toggle.isPending}>
                {job.enabled ? 'Disable' : 'Enable'}
              </Button>
              <Button variant="ghost" onClick={() => setDeleteOpen(true)}>
                <span className="text-red-700 dark:text-red-400">Delete</span>
              </Button>
              <Button variant="primary" onClick={() => setRunOpen(true)} disabled={!job.enabled} title={job.enabled ? undefined : 'Enable the job to run it'}>
                Run now
              </Button>
            </>
          ) : null
        }
      />
      <Tabs.Root value={tab} onValueChange={(v) => setParams(v === 'overview' ? {} : { tab: v }, { replace: true })}>
        <Tabs.List aria-label="Job sections" className="mb-6 flex gap-1 overflow-x-auto border-b border-slate-200 dark:border-slate-800">
          {TABS.map((t) => (
            <Tabs.Trigger
              key={t.value}
              value={t.value}
              className="-mb-px whitespace-nowrap border-b-2 border-transparent px-3 py-2 text-sm font-medium text-slate-600 hover:text-slate-900 data-[state=active]:border-indigo-600 data-[state=active]:text-indigo-700 dark:text-slate-400 dark:hover:text-slate-100 dark:data-[state=active]:border-indigo-400 dark:data-[state=active]:text-indigo-300"
            >
              {t.label}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
        <Tabs.Content value="overview">
          <JobOverview job={job} />
        </Tabs.Content>
        {/* Kept mounted while another tab is shown, so unsaved edits survive a look at Versions. */}
        <Tabs.Content value="definition" forceMount className="data-[state=inactive]:hidden">
          {!developer && <p className="mb-3 text-sm text-slate-500 dark:text-slate-400">Read only: developers can change the definition.</p>}
          <JobSpecEditor
            initial={job.source}
            readOnly={!developer}
            currentName={job.name}
            onSaved={(r) => {
              if (r.job.name !== job.name) navigate(`/jobs/${encodeURIComponent(r.job.name)}?tab=definition`);
            }}
          />
        </Tabs.Content>
        <Tabs.Content value="versions">
          <JobVersions name={job.name} current={job.version} />
        </Tabs.Content>
        <Tabs.Content value="runs">
          <JobRuns name={job.name} />
        </Tabs.Content>
      </Tabs.Root>
      {developer && <RunNowDialog jobName={job.name} open={runOpen} onOpenChange={setRunOpen} />}
      <DeleteJobDialog job={job} open={deleteOpen} onOpenChange={setDeleteOpen} />
    </>
  );
}

function DeleteJobDialog({ job, open, onOpenChange }: { job: Job; open: boolean; onOpenChange: (open: boolean) => void }) {
  const navigate = useNavigate();
  const toast = useToast();
  const queryClient = useQueryClient();
  return (
    <ConfirmDialog
      open={open}
      onOpenChange={onOpenChange}
      title={`Delete ${job.name}?`}
      description="Its schedules and versions go with it; its runs stay in the history. Queued runs are canceled."
      confirmLabel="Delete job"
      busyLabel="Deleting…"
      cancelLabel="Keep it"
      onConfirm={async () => {
        await api.delete(jobPath(job.name));
        toast(`Deleted ${job.name}`);
        queryClient.removeQueries({ queryKey: ['job', job.name] });
        void queryClient.invalidateQueries({ queryKey: ['jobs'] });
        navigate('/jobs');
      }}
    />
  );
}
