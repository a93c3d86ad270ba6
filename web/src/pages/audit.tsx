import { useInfiniteQuery } from '@tanstack/react-query';
import { Fragment, useState } from 'react';
import type { AuditEntry } from '../api/admin.ts';
import { api } from '../api/client.ts';
import { useSession } from '../app/session.tsx';
import { OptionsSelect } from '../components/options-select.tsx';
import { Time } from '../components/time.tsx';
import { Button, EmptyState, ErrorPanel, Field, PageHeader, Spinner, Table, TD, TH } from '../components/ui.tsx';

// The project's audit log for admins: who changed what, when and from where, newest first,
// filtered by kind of change (the API's action prefix), a page at a time.

const FILTERS: { value: string; label: string }[] = [
  { value: '', label: 'Everything' },
  { value: 'job.', label: 'Jobs' },
  { value: 'run.', label: 'Runs' },
  { value: 'schedule.', label: 'Schedules' },
  { value: 'host.', label: 'Hosts' },
  { value: 'secret.', label: 'Secrets' },
  { value: 'member.', label: 'Members' },
  { value: 'token.', label: 'Tokens' },
  { value: 'webhook.', label: 'Webhooks' },
  { value: 'project.', label: 'Project' },
];

const PAGE = 50;

/** What the change was made to, as a person reads it: a member's email, a token's name, else the id. */
function resourceLabel(e: AuditEntry): string | null {
  const d = e.details ?? {};
  for (const key of ['email', 'name']) if (typeof d[key] === 'string') return d[key] as string;
  return e.resource_id;
}

export function AuditPage() {
  const { can } = useSession();
  const [action, setAction] = useState('');
  const [open, setOpen] = useState<Set<number>>(new Set());
  const q = useInfiniteQuery({
    queryKey: ['audit', action],
    enabled: can('admin'),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) => api.get<{ entries: AuditEntry[]; next_cursor: string | null }>('/audit', { limit: PAGE, cursor: pageParam, action: action || undefined }, signal),
    getNextPageParam: (last) => last.next_cursor,
  });

  if (!can('admin')) {
    return (
      <>
        <PageHeader title="Audit log" />
        <EmptyState title="Only admins read the audit log" />
      </>
    );
  }

  const entries = q.data?.pages.flatMap((p) => p.entries) ?? [];
  const toggle = (id: number) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <>
      <PageHeader title="Audit log" subtitle="Every change made through the API in this project, newest first." />
      <div className="mb-4 max-w-xs">
        <Field label="Show" htmlFor="audit-filter">
          <OptionsSelect id="audit-filter" value={action} onValue={setAction} options={FILTERS} />
        </Field>
      </div>
      {q.isPending ? (
        <Spinner />
      ) : q.isError ? (
        <ErrorPanel error={q.error} retry={() => void q.refetch()} />
      ) : entries.length === 0 ? (
        <EmptyState title={action ? 'Nothing of this kind yet' : 'No changes recorded yet'}>Changes to jobs, hosts, secrets, members and tokens appear here.</EmptyState>
      ) : (
        <>
          <Table label="Audit log">
            <thead>
              <tr>
                <th className={TH}>When</th>
                <th className={TH}>Actor</th>
                <th className={TH}>Action</th>
                <th className={`${TH} hidden md:table-cell`}>Resource</th>
                <th className={`${TH} hidden lg:table-cell`}>IP</th>
                <th className={TH}>
                  <span className="sr-only">Details</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {entries.map((e) => {
                const expanded = open.has(e.id);
                const hasDetails = e.details !== null && Object.keys(e.details).length > 0;
                return (
                  <Fragment key={e.id}>
                    <tr>
                      <td className={`${TD} whitespace-nowrap text-slate-500 dark:text-slate-400`}>
                        <Time at={e.at} />
                      </td>
                      <td className={`${TD} max-w-56 truncate`} title={e.actor ?? undefined}>
                        {e.actor ?? '–'}
                      </td>
                      <td className={TD}>
                        <code className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs dark:bg-slate-800">{e.action}</code>
                      </td>
                      <td className={`${TD} hidden max-w-64 truncate md:table-cell`}>
                        <span className="text-slate-500 dark:text-slate-400">{e.resource_type}</span>
                        {resourceLabel(e) && <span className="ml-1.5 font-mono text-xs">{resourceLabel(e)}</span>}
                      </td>
                      <td className={`${TD} hidden font-mono text-xs text-slate-500 lg:table-cell dark:text-slate-400`}>{e.ip ?? '–'}</td>
                      <td className={`${TD} text-right`}>
                        <Button size="sm" variant="ghost" aria-expanded={expanded} aria-controls={`audit-${e.id}`} onClick={() => toggle(e.id)}>
                          {expanded ? 'Hide' : 'Details'}
                        </Button>
                      </td>
                    </tr>
                    {expanded && (
                      <tr id={`audit-${e.id}`}>
                        <td colSpan={6} className="bg-slate-50 px-4 py-3 dark:bg-slate-800/40">
                          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-xs">
                            <dt className="text-slate-500">Time</dt>
                            <dd>{new Date(e.at).toLocaleString()}</dd>
                            <dt className="text-slate-500">Resource</dt>
                            <dd className="font-mono">
                              {e.resource_type} {e.resource_id ?? ''}
                            </dd>
                            <dt className="text-slate-500">IP</dt>
                            <dd className="font-mono">{e.ip ?? '–'}</dd>
                          </dl>
                          {hasDetails ? (
                            <pre className="mt-2 overflow-x-auto rounded bg-white p-2 font-mono text-xs ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-700">
                              {JSON.stringify(e.details, null, 2)}
                            </pre>
                          ) : (
                            <p className="mt-2 text-xs text-slate-500">No further details.</p>
                          )}
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </Table>
          <div className="mt-4 flex items-center justify-between text-sm text-slate-500 dark:text-slate-400">
            <span>{entries.length === 1 ? '1 entry' : `${entries.length} entries`} shown</span>
            {q.hasNextPage && (
              <Button onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
                {q.isFetchingNextPage ? 'Loading…' : 'Load older'}
              </Button>
            )}
          </div>
        </>
      )}
    </>
  );
}
