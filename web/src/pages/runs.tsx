import { useInfiniteQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { errorMessage } from '../api/client.ts';
import { isActive, runKeys, runsList, type RunsPageBody } from '../api/runs.ts';
import type { Run } from '../api/types.ts';
import { useRunEvents } from '../app/live.tsx';
import { RunFiltersBar, useRunFilters } from '../components/run-filters.tsx';
import { StatusChip } from '../components/status-chip.tsx';
import { formatDuration, runDuration, Time, useNow } from '../components/time.tsx';
import { Button, EmptyState, ErrorPanel, PageHeader, Spinner, Table, TD, TH } from '../components/ui.tsx';

// Every run of the project, newest first, live: a status change patches its row at once (the
// live connection then refetches the list, which brings new runs in). Filters sit in the URL;
// "Load more" follows the API's cursor.

const TRIGGER_WORDS: Record<string, string> = {
  manual: 'manual',
  schedule: 'schedule',
  webhook: 'webhook',
  api: 'API',
  retry: 'retry',
  rerun: 're-run',
  host_test: 'host test',
};

export function RunsPage() {
  const [filters, setFilters] = useRunFilters();
  const queryClient = useQueryClient();
  const runs = useInfiniteQuery({
    queryKey: runKeys.list(filters),
    queryFn: ({ pageParam, signal }) => runsList(filters, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });

  useRunEvents((e) => {
    queryClient.setQueriesData<InfiniteData<RunsPageBody>>({ queryKey: runKeys.lists() }, (data) =>
      data
        ? {
            ...data,
            pages: data.pages.map((p) => ({ ...p, runs: p.runs.map((r) => (r.id === e.run_id ? { ...r, status: e.to_status, attempt: e.attempt } : r)) })),
          }
        : data,
    );
  });

  const loadError = runs.error;
  const all = runs.data?.pages.flatMap((p) => p.runs) ?? [];
  const filtered = Boolean(filters.job || filters.status || filters.trigger);

  return (
    <div>
      <PageHeader title="Runs" subtitle="Every run of every job in this project, newest first. Updates live." />
      <RunFiltersBar filters={filters} onChange={setFilters} />
      {runs.isPending ? (
        <Spinner label="Loading runs" />
      ) : runs.isError ? (
        <ErrorPanel error={runs.error} retry={() => void runs.refetch()} />
      ) : all.length === 0 ? (
        filtered ? (
          <EmptyState title="No runs match these filters" action={<Button onClick={() => setFilters({ job: '', status: '', trigger: '' })}>Clear filters</Button>}>
            Try another status or trigger, or all jobs.
          </EmptyState>
        ) : (
          <EmptyState
            title="No runs yet"
            action={
              <Link to="/jobs" className="inline-flex rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
                Go to jobs
              </Link>
            }
          >
            A run appears here the moment a job starts: open a job and press <strong>Run now</strong>, or let its schedule or webhook trigger it.
          </EmptyState>
        )
      ) : (
        <>
          <RunsTable runs={all} />
          <div className="mt-4 flex flex-col items-center gap-2">
            {runs.isFetchNextPageError && (
              <p role="alert" className="text-sm text-red-600 dark:text-red-400">
                Could not load more runs: {errorMessage(loadError)}
              </p>
            )}
            {runs.hasNextPage ? (
              <Button onClick={() => void runs.fetchNextPage()} disabled={runs.isFetchingNextPage}>
                {runs.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </Button>
            ) : (
              <p className="text-xs text-slate-500 dark:text-slate-400">
                {all.length === 1 ? '1 run' : `${all.length} runs`}
                {filtered ? ' match' : ''} · that is all
              </p>
            )}
          </div>
        </>
      )}
    </div>
  );
}

function RunsTable({ runs }: { runs: Run[] }) {
  const anyActive = runs.some((r) => isActive(r.status));
  const tick = useNow(anyActive ? 1000 : 15_000);
  // The tick only says when to render again: a row that just arrived is measured against the clock.
  const now = Math.max(tick, Date.now());
  const navigate = useNavigate();
  return (
    <Table label="Runs">
      <thead className="bg-slate-50 dark:bg-slate-900/60">
        <tr>
          <th scope="col" className={TH}>
            Run
          </th>
          <th scope="col" className={TH}>
            Job
          </th>
          <th scope="col" className={TH}>
            Status
          </th>
          <th scope="col" className={`${TH} hidden md:table-cell`}>
            Trigger
          </th>
          <th scope="col" className={`${TH} hidden lg:table-cell`}>
            Target
          </th>
          <th scope="col" className={TH}>
            Created
          </th>
          <th scope="col" className={`${TH} text-right`}>
            Duration
          </th>
          <th scope="col" className={`${TH} hidden text-right sm:table-cell`}>
            Exit
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
        {runs.map((r) => {
          const d = runDuration(r, now);
          return (
            <tr
              key={r.id}
              data-run-id={r.id}
              className="cursor-pointer hover:bg-slate-50 dark:hover:bg-slate-800/50"
              onClick={(e) => {
                // The links in the row handle their own clicks (and middle-clicks, new tabs).
                if ((e.target as HTMLElement).closest('a')) return;
                navigate(`/runs/${r.id}`);
              }}
            >
              <td className={`${TD} whitespace-nowrap font-medium`}>
                <Link to={`/runs/${r.id}`} className="text-indigo-600 hover:underline dark:text-indigo-400" aria-label={`Run ${r.id} of ${r.job_name}`}>
                  #{r.id}
                </Link>
              </td>
              <td className={`${TD} max-w-48 truncate`}>
                <Link to={`/jobs/${encodeURIComponent(r.job_name)}`} className="hover:underline" title={r.job_name}>
                  {r.job_name}
                </Link>
              </td>
              <td className={TD}>
                <StatusChip status={r.status} />
                {r.attempt > 1 && <span className="ml-1.5 text-xs text-slate-500 dark:text-slate-400">attempt {r.attempt}</span>}
              </td>
              <td className={`${TD} hidden text-slate-600 md:table-cell dark:text-slate-300`}>{TRIGGER_WORDS[r.trigger] ?? r.trigger}</td>
              <td className={`${TD} hidden max-w-40 truncate font-mono text-xs text-slate-600 lg:table-cell dark:text-slate-300`} title={r.target}>
                {r.target}
              </td>
              <td className={`${TD} whitespace-nowrap text-slate-600 dark:text-slate-300`}>
                <Time at={r.created_at} now={now} />
              </td>
              <td className={`${TD} whitespace-nowrap text-right tabular-nums text-slate-600 dark:text-slate-300`}>{d === null ? '–' : formatDuration(Math.max(0, d))}</td>
              <td className={`${TD} hidden text-right tabular-nums sm:table-cell ${r.exit_code ? 'font-semibold text-red-700 dark:text-red-300' : 'text-slate-600 dark:text-slate-300'}`}>
                {r.exit_code ?? '–'}
              </td>
            </tr>
          );
        })}
      </tbody>
    </Table>
  );
}
