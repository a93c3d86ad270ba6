import { Link, useNavigate } from 'react-router';
import { isActive } from '../api/runs.ts';
import type { Run } from '../api/types.ts';
import { StatusChip } from './status-chip.tsx';
import { formatDuration, runDuration, Time, useNow } from './time.tsx';
import { Table, TD, TH } from './ui.tsx';

// The one table of runs: the runs list, a job's recent runs and the dashboard's latest runs.
// Each row opens its run; the columns a place needs are chosen with `columns`.

/** What a row needs; the dashboard's runs carry fewer fields than the runs list's. */
export type RunRow = Pick<Run, 'id' | 'job_name' | 'status' | 'trigger' | 'target' | 'created_at' | 'started_at' | 'finished_at'> &
  Partial<Pick<Run, 'job_version' | 'attempt' | 'exit_code'>>;

/** Optional columns (Run, Status, the time and Trigger are always there). */
export type RunColumn = 'job' | 'version' | 'target' | 'duration' | 'exit';

const TRIGGER_WORDS: Record<string, string> = {
  manual: 'manual',
  schedule: 'schedule',
  webhook: 'webhook',
  api: 'API',
  retry: 'retry',
  rerun: 're-run',
  host_test: 'host test',
};

export function RunsTable({
  label,
  runs,
  columns,
  time = 'created',
}: {
  label: string;
  runs: RunRow[];
  columns: RunColumn[];
  /** Created (when it was asked for) or Started (when it began; created until then). */
  time?: 'created' | 'started';
}) {
  const show = (c: RunColumn) => columns.includes(c);
  const anyActive = runs.some((r) => isActive(r.status));
  const tick = useNow(anyActive ? 1000 : 15_000);
  // The tick only says when to render again: a row that just arrived is measured against the clock.
  const now = Math.max(tick, Date.now());
  const navigate = useNavigate();
  const muted = 'text-slate-600 dark:text-slate-300';
  return (
    <Table label={label}>
      <thead className="bg-slate-50 dark:bg-slate-900/60">
        <tr>
          <th scope="col" className={TH}>
            Run
          </th>
          {show('job') && (
            <th scope="col" className={TH}>
              Job
            </th>
          )}
          <th scope="col" className={TH}>
            Status
          </th>
          <th scope="col" className={`${TH} hidden md:table-cell`}>
            Trigger
          </th>
          {show('target') && (
            <th scope="col" className={`${TH} hidden lg:table-cell`}>
              Target
            </th>
          )}
          <th scope="col" className={TH}>
            {time === 'started' ? 'Started' : 'Created'}
          </th>
          {show('duration') && (
            <th scope="col" className={`${TH} text-right`}>
              Duration
            </th>
          )}
          {show('exit') && (
            <th scope="col" className={`${TH} hidden text-right sm:table-cell`}>
              Exit
            </th>
          )}
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
                <Link
                  to={`/runs/${r.id}`}
                  className="text-indigo-600 hover:underline dark:text-indigo-400"
                  // With several jobs in the table, the link says whose run it is.
                  aria-label={show('job') ? `Run ${r.id} of ${r.job_name}` : undefined}
                >
                  #{r.id}
                </Link>
                {show('version') && r.job_version !== undefined && <span className="ml-2 text-xs font-normal text-slate-500 dark:text-slate-400">v{r.job_version}</span>}
              </td>
              {show('job') && (
                <td className={`${TD} max-w-48 truncate`}>
                  <Link to={`/jobs/${encodeURIComponent(r.job_name)}`} className="hover:underline" title={r.job_name}>
                    {r.job_name}
                  </Link>
                </td>
              )}
              <td className={TD}>
                <StatusChip status={r.status} />
                {r.attempt !== undefined && r.attempt > 1 && <span className="ml-1.5 text-xs text-slate-500 dark:text-slate-400">attempt {r.attempt}</span>}
              </td>
              <td className={`${TD} hidden md:table-cell ${muted}`}>{TRIGGER_WORDS[r.trigger] ?? r.trigger}</td>
              {show('target') && (
                <td className={`${TD} hidden max-w-40 truncate font-mono text-xs lg:table-cell ${muted}`} title={r.target}>
                  {r.target}
                </td>
              )}
              <td className={`${TD} whitespace-nowrap ${muted}`}>
                <Time at={time === 'started' ? (r.started_at ?? r.created_at) : r.created_at} now={now} />
              </td>
              {show('duration') && <td className={`${TD} whitespace-nowrap text-right tabular-nums ${muted}`}>{d === null ? '–' : formatDuration(Math.max(0, d))}</td>}
              {show('exit') && (
                <td className={`${TD} hidden text-right tabular-nums sm:table-cell ${r.exit_code ? 'font-semibold text-red-700 dark:text-red-300' : muted}`}>{r.exit_code ?? '–'}</td>
              )}
            </tr>
          );
        })}
      </tbody>
    </Table>
  );
}
