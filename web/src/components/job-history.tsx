import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useJobDiff, useJobRuns, useJobVersions } from '../api/jobs.ts';
import { DiffView } from './diff-view.tsx';
import { RunsTable } from './runs-table.tsx';
import { Time } from './time.tsx';
import { EmptyState, ErrorPanel, Field, Select, Spinner, Table, TD, TH } from './ui.tsx';

// The Versions tab (every saved definition; pick two for a diff) and the Recent runs tab (live:
// the runs query refetches after every run status event) of a job page.

export function JobVersions({ name, current }: { name: string; current: number }) {
  const versions = useJobVersions(name);
  const [from, setFrom] = useState<number | null>(current > 1 ? current - 1 : null);
  const [to, setTo] = useState<number | null>(current > 1 ? current : null);
  // A save while the tab is open moves the default comparison along, unless one was picked.
  const [picked, setPicked] = useState(false);
  useEffect(() => {
    if (!picked && current > 1) {
      setFrom(current - 1);
      setTo(current);
    }
  }, [current, picked]);
  const diff = useJobDiff(name, from, to);

  if (versions.isPending) return <Spinner label="Loading versions" />;
  if (versions.isError) return <ErrorPanel error={versions.error} retry={() => void versions.refetch()} />;
  const list = versions.data.versions;

  return (
    <div className="space-y-6">
      {list.length < 2 ? (
        <EmptyState title="Only one version so far">Every save of a changed definition is a new version; pick two here to see what changed.</EmptyState>
      ) : (
        <div className="space-y-3">
          <div className="flex flex-wrap items-end gap-3">
            <div className="w-40">
              <Field label="From version" htmlFor="diff-from">
                <Select
                  id="diff-from"
                  value={from ?? ''}
                  onChange={(e) => {
                    setPicked(true);
                    setFrom(Number(e.target.value));
                  }}
                >
                  {list.map((v) => (
                    <option key={v.version} value={v.version}>
                      v{v.version}
                    </option>
                  ))}
                </Select>
              </Field>
            </div>
            <div className="w-40">
              <Field label="To version" htmlFor="diff-to">
                <Select
                  id="diff-to"
                  value={to ?? ''}
                  onChange={(e) => {
                    setPicked(true);
                    setTo(Number(e.target.value));
                  }}
                >
                  {list.map((v) => (
                    <option key={v.version} value={v.version}>
                      v{v.version}
                      {v.version === current ? ' (current)' : ''}
                    </option>
                  ))}
                </Select>
              </Field>
            </div>
            {diff.data && (
              <p className="pb-2 text-sm text-slate-500 dark:text-slate-400">
                <span className="text-green-700 dark:text-green-400">+{diff.data.added}</span> <span className="text-red-700 dark:text-red-400">−{diff.data.removed}</span> lines
              </p>
            )}
          </div>
          {from === to ? (
            <p className="text-sm text-slate-500 dark:text-slate-400">Pick two different versions to compare.</p>
          ) : diff.isPending ? (
            <Spinner label="Loading the diff" />
          ) : diff.isError ? (
            <ErrorPanel error={diff.error} retry={() => void diff.refetch()} />
          ) : diff.data.unified === '' ? (
            <p className="text-sm text-slate-500 dark:text-slate-400">The two versions have the same text.</p>
          ) : (
            <DiffView unified={diff.data.unified} label={`Changes from v${diff.data.from} to v${diff.data.to}`} />
          )}
        </div>
      )}
      <Table label="Versions">
        <thead className="bg-slate-50 dark:bg-slate-900/60">
          <tr>
            <th scope="col" className={TH}>
              Version
            </th>
            <th scope="col" className={TH}>
              Saved
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
          {list.map((v) => (
            <tr key={v.version}>
              <td className={`${TD} font-medium`}>
                v{v.version}
                {v.version === current && <span className="ml-2 rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300">current</span>}
              </td>
              <td className={TD}>
                <Time at={v.created_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
    </div>
  );
}

export function JobRuns({ name }: { name: string }) {
  const runs = useJobRuns(name);
  if (runs.isPending) return <Spinner label="Loading runs" />;
  if (runs.isError) return <ErrorPanel error={runs.error} retry={() => void runs.refetch()} />;
  if (runs.data.length === 0) return <EmptyState title="No runs yet">Start one with Run now, or wait for the schedule.</EmptyState>;
  return (
    <div className="space-y-3">
      <RunsTable label="Recent runs" runs={runs.data} columns={['version', 'duration']} time="started" />
      <p className="text-xs text-slate-500 dark:text-slate-400">
        The last {runs.data.length} runs.{' '}
        <Link to={`/runs?job=${encodeURIComponent(name)}`} className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
          All runs of this job
        </Link>
      </p>
    </div>
  );
}
