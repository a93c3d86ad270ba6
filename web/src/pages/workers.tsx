import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useWorkers, type Worker } from '../api/admin.ts';
import { api } from '../api/client.ts';
import type { Run } from '../api/types.ts';
import { StatusChip } from '../components/status-chip.tsx';
import { relative, Time, useNow } from '../components/time.tsx';
import { Code, EmptyState, ErrorPanel, PageHeader, Spinner, Table, TD, TH } from '../components/ui.tsx';

// Workers and agents: where they run, their labels and slots, when they last reported, and
// the runs they hold now. A worker heartbeats every 10 s; one silent for 90 s has lost its
// leases (its runs go back to the queue), so it is shown as stale from then on.

const STALE_MS = 90_000;

export function WorkersPage() {
  const q = useWorkers();
  const now = useNow(5_000);
  // The project's runs in flight, to list under the worker that holds them.
  const active = useQuery({
    queryKey: ['workers', 'active-runs'],
    queryFn: ({ signal }) => api.get<{ runs: Run[] }>('/runs', { status: 'claimed,running', limit: 200 }, signal).then((r) => r.runs),
  });
  const byWorker = new Map<string, Run[]>();
  for (const r of active.data ?? []) if (r.worker_id) byWorker.set(r.worker_id, [...(byWorker.get(r.worker_id) ?? []), r]);

  const live = (q.data ?? []).filter((w) => !w.stopped_at && now - Date.parse(w.last_heartbeat_at) < STALE_MS).length;

  return (
    <>
      <PageHeader
        title="Workers"
        subtitle={q.isSuccess ? `${live} online · workers and agents seen in the last 24 hours` : 'Workers and agents that run jobs'}
      />
      {q.isPending ? (
        <Spinner />
      ) : q.isError ? (
        <ErrorPanel error={q.error} retry={() => void q.refetch()} />
      ) : q.data.length === 0 ? (
        <EmptyState title="No workers">
          <p>Runs wait in the queue until a worker picks them up.</p>
          <p className="mt-2">
            <Code>hostrun start</Code> runs one next to the server; start more with <Code>hostrun worker</Code>.
          </p>
        </EmptyState>
      ) : (
        <Table label="Workers">
          <thead>
            <tr>
              <th className={TH}>Worker</th>
              <th className={TH}>State</th>
              <th className={`${TH} hidden md:table-cell`}>Labels</th>
              <th className={TH}>Slots</th>
              <th className={TH}>Last heartbeat</th>
              <th className={TH}>Current runs</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {q.data.map((w) => (
              <WorkerRow key={w.id} w={w} now={now} runs={byWorker.get(w.id) ?? []} />
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}

function WorkerRow({ w, now, runs }: { w: Worker; now: number; runs: Run[] }) {
  const silentMs = now - Date.parse(w.last_heartbeat_at);
  const state = w.stopped_at ? 'stopped' : silentMs >= STALE_MS ? 'stale' : 'online';
  const stateStyle = {
    online: 'bg-green-100 text-green-800 ring-green-300 dark:bg-green-900/40 dark:text-green-200 dark:ring-green-700',
    stale: 'bg-amber-100 text-amber-900 ring-amber-300 dark:bg-amber-900/40 dark:text-amber-200 dark:ring-amber-700',
    stopped: 'bg-slate-200 text-slate-700 ring-slate-300 dark:bg-slate-800 dark:text-slate-300 dark:ring-slate-600',
  }[state];
  return (
    <tr className={state === 'stale' ? 'bg-amber-50/60 dark:bg-amber-950/20' : undefined}>
      <td className={TD}>
        <div className="font-medium">{w.hostname}</div>
        <div className="font-mono text-xs text-slate-500 dark:text-slate-400" title={w.id}>
          {w.kind} · {w.id.slice(0, 8)}
          {w.pid ? ` · pid ${w.pid}` : ''}
          {w.version ? ` · v${w.version}` : ''}
        </div>
      </td>
      <td className={TD}>
        <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${stateStyle}`}>{state}</span>
      </td>
      <td className={`${TD} hidden md:table-cell`}>
        {w.labels.length === 0 ? (
          <span className="text-slate-400">–</span>
        ) : (
          <span className="flex flex-wrap gap-1">
            {w.labels.map((l) => (
              <span key={l} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700 dark:bg-slate-800 dark:text-slate-300">
                {l}
              </span>
            ))}
          </span>
        )}
      </td>
      <td className={`${TD} tabular-nums`}>
        {w.active_runs} / {w.concurrency}
      </td>
      <td className={`${TD} whitespace-nowrap`}>
        {w.stopped_at ? (
          <span className="text-slate-500 dark:text-slate-400">
            stopped <Time at={w.stopped_at} now={now} />
          </span>
        ) : (
          <span className={state === 'stale' ? 'font-medium text-amber-700 dark:text-amber-400' : ''} title={new Date(w.last_heartbeat_at).toLocaleString()}>
            {relative(w.last_heartbeat_at, now)}
          </span>
        )}
      </td>
      <td className={TD}>
        {runs.length === 0 ? (
          <span className="text-slate-400">{w.active_runs > 0 ? `${w.active_runs} in other projects` : 'idle'}</span>
        ) : (
          <ul className="space-y-1">
            {runs.map((r) => (
              <li key={r.id} className="flex items-center gap-2">
                <StatusChip status={r.status} />
                <Link to={`/runs/${r.id}`} className="text-sm text-indigo-600 hover:underline dark:text-indigo-400">
                  #{r.id} {r.job_name}
                </Link>
              </li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}
