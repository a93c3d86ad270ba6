import { useInfiniteQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { Link } from 'react-router';
import { errorMessage } from '../api/client.ts';
import { runKeys, runsList, type RunsPageBody } from '../api/runs.ts';
import { useRunEvents } from '../app/live.tsx';
import { RunFiltersBar, useRunFilters } from '../components/run-filters.tsx';
import { RunsTable } from '../components/runs-table.tsx';
import { Button, EmptyState, ErrorPanel, PageHeader, Spinner } from '../components/ui.tsx';

// Every run of the project, newest first, live: a status change patches its row at once (the
// live connection then refetches the list, which brings new runs in). Filters sit in the URL;
// "Load more" follows the API's cursor.

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
          <RunsTable label="Runs" runs={all} columns={['job', 'target', 'duration', 'exit']} />
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
