import { useState } from 'react';
import { Link } from 'react-router';
import { useHosts, type Host } from '../api/admin.ts';
import { useSession } from '../app/session.tsx';
import { ConfirmDelete } from '../components/confirm-dialog.tsx';
import { Dialog } from '../components/dialog.tsx';
import { HostKeyConfirm, HostTest } from '../components/host-connection.tsx';
import { AddHostDialog } from '../components/host-form.tsx';
import { StatusChip } from '../components/status-chip.tsx';
import { ActionsCell, ActionsHeader } from '../components/table-parts.tsx';
import { Time } from '../components/time.tsx';
import { Button, Code, EmptyState, ErrorPanel, PageHeader, Spinner, Table, TD, TH } from '../components/ui.tsx';

// Hosts jobs run on over SSH: who they log in as, with which secret, and the host key pinned
// for each. Admins add hosts (the key is shown for confirmation before it is pinned), verify
// and test them, and remove them; everyone else reads.

export function HostsPage() {
  const q = useHosts();
  const { can } = useSession();
  const admin = can('admin');
  const [adding, setAdding] = useState(false);
  const [open, setOpen] = useState<{ host: Host; mode: 'verify' | 'test' } | null>(null);
  const [deleting, setDeleting] = useState<Host | null>(null);

  return (
    <>
      <PageHeader
        title="Hosts"
        subtitle="Machines jobs run on over SSH. Host keys are pinned: a changed key is refused."
        actions={
          admin && (
            <Button variant="primary" onClick={() => setAdding(true)}>
              Add host
            </Button>
          )
        }
      />
      {q.isPending ? (
        <Spinner />
      ) : q.isError ? (
        <ErrorPanel error={q.error} retry={() => void q.refetch()} />
      ) : q.data.length === 0 ? (
        <EmptyState
          title="No hosts yet"
          action={
            admin && (
              <Button variant="primary" onClick={() => setAdding(true)}>
                Add host
              </Button>
            )
          }
        >
          <p>Jobs run on this server until you add a host. Store its SSH key as a secret, then add the host.</p>
          <p className="mt-2">
            From a terminal: <Code>hostrun host add web-1 --address 10.0.0.12 --user deploy --key-secret deploy_key</Code>
          </p>
        </EmptyState>
      ) : (
        <Table label="Hosts">
          <thead>
            <tr>
              <th className={TH}>Name</th>
              <th className={TH}>Address</th>
              <th className={`${TH} hidden md:table-cell`}>Labels</th>
              <th className={TH}>Host key</th>
              <th className={TH}>Last test</th>
              {admin && <ActionsHeader />}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {q.data.map((h) => (
              <tr key={h.name}>
                <td className={`${TD} font-medium`}>{h.name}</td>
                <td className={`${TD} whitespace-nowrap`}>
                  <div className="font-mono text-xs">
                    {h.username}@{h.address}
                    {h.port !== 22 ? `:${h.port}` : ''}
                  </div>
                  <div className="text-xs text-slate-500 dark:text-slate-400">
                    {h.os} · {h.shell ?? (h.os === 'windows' ? 'powershell' : 'bash')}
                  </div>
                </td>
                <td className={`${TD} hidden md:table-cell`}>
                  <Labels labels={h.labels} />
                </td>
                <td className={TD}>
                  <HostKeyCell host={h} />
                </td>
                <td className={`${TD} whitespace-nowrap`}>
                  {h.last_test ? (
                    <Link to={`/runs/${h.last_test.run_id}`} className="inline-flex items-center gap-2" title={h.last_test.error ?? undefined}>
                      <StatusChip status={h.last_test.status} />
                      <span className="text-xs text-slate-500 dark:text-slate-400">
                        <Time at={h.last_test.at} />
                      </span>
                    </Link>
                  ) : (
                    <span className="text-xs text-slate-400">never tested</span>
                  )}
                </td>
                {admin && (
                  <ActionsCell>
                    {h.fingerprint ? (
                      <Button size="sm" onClick={() => setOpen({ host: h, mode: 'test' })} aria-label={`Test connection to ${h.name}`}>
                        Test
                      </Button>
                    ) : (
                      <Button size="sm" variant="primary" onClick={() => setOpen({ host: h, mode: 'verify' })} aria-label={`Verify host key of ${h.name}`}>
                        Verify key
                      </Button>
                    )}
                    <Button size="sm" variant="ghost" onClick={() => setDeleting(h)} aria-label={`Delete host ${h.name}`}>
                      Delete
                    </Button>
                  </ActionsCell>
                )}
              </tr>
            ))}
          </tbody>
        </Table>
      )}

      {admin && <AddHostDialog open={adding} onOpenChange={setAdding} />}
      {open && <HostDialog host={open.host} mode={open.mode} onClose={() => setOpen(null)} />}
      <ConfirmDelete
        item={deleting}
        onClose={() => setDeleting(null)}
        title={(h) => `Delete host ${h.name}?`}
        confirmLabel="Delete host"
        path={(h) => `/hosts/${encodeURIComponent(h.name)}`}
        queryKey={['hosts']}
        done={(h) => `Host ${h.name} deleted`}
      >
        {(h) => (
          <>
            Jobs that run on <strong>{h.name}</strong> will fail until a host with that name is added again. Past runs keep their history.
          </>
        )}
      </ConfirmDelete>
    </>
  );
}

/** Verify (unpinned key) or test (pinned) one host from its row. */
function HostDialog({ host, mode, onClose }: { host: Host; mode: 'verify' | 'test'; onClose: () => void }) {
  const [pinned, setPinned] = useState(host.fingerprint);
  const [comparing, setComparing] = useState(false);
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()} title={mode === 'verify' && !pinned ? `Verify ${host.name}` : `Test ${host.name}`} wide>
      <div className="space-y-4">
        {!pinned ? (
          <HostKeyConfirm host={host.name} onPinned={setPinned} />
        ) : (
          <>
            <p className="text-sm text-slate-600 dark:text-slate-300">
              Pinned host key <span className="break-all font-mono">{pinned}</span>
            </p>
            <HostTest host={host.name} />
            {comparing ? (
              <HostKeyConfirm host={host.name} onPinned={setPinned} />
            ) : (
              <Button size="sm" variant="ghost" onClick={() => setComparing(true)}>
                Compare with the key it presents now
              </Button>
            )}
          </>
        )}
        <div className="flex justify-end">
          <Button onClick={onClose}>Close</Button>
        </div>
      </div>
    </Dialog>
  );
}

function HostKeyCell({ host }: { host: Host }) {
  if (host.fingerprint) {
    return (
      <span className="font-mono text-xs" title={host.fingerprint}>
        {host.fingerprint.slice(0, 15)}…
      </span>
    );
  }
  return (
    <span className="inline-flex items-center gap-1.5 rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-800 dark:bg-amber-900/40 dark:text-amber-200">
      {host.trust_on_first_use ? 'pinned on first use' : 'not pinned'}
    </span>
  );
}

function Labels({ labels }: { labels: string[] }) {
  if (labels.length === 0) return <span className="text-slate-400">–</span>;
  return (
    <span className="flex min-w-32 flex-wrap gap-1">
      {labels.map((l) => (
        <span key={l} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700 dark:bg-slate-800 dark:text-slate-300">
          {l}
        </span>
      ))}
    </span>
  );
}
