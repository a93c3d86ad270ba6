import { useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ROLES, type ApiToken, type CreatedToken } from '../api/admin.ts';
import { api } from '../api/client.ts';
import { roleAtLeast, type Role } from '../api/types.ts';
import { ConfirmDelete } from './confirm-dialog.tsx';
import { FormError } from './form-error.tsx';
import { useAsyncAction } from './use-async-action.ts';
import { OptionsSelect } from './options-select.tsx';
import { ActionsCell, ActionsHeader, CardTable } from './table-parts.tsx';
import { Time } from './time.tsx';
import { TokenCreatedDialog } from './token-created-dialog.tsx';
import { Button, Card, ErrorPanel, Field, Input, Spinner, TD, TH } from './ui.tsx';

// API tokens: the project's (for CI and scripts, with a role) or the caller's own (acting as
// them). Create with an optional expiry; the secret is shown once; list with last use; revoke.

const EXPIRY: { value: string; label: string; days: number | null }[] = [
  { value: '30', label: '30 days', days: 30 },
  { value: '90', label: '90 days', days: 90 },
  { value: '365', label: '1 year', days: 365 },
  { value: 'never', label: 'Never', days: null },
];

export function TokenPanel({
  kind,
  query,
  callerRole,
}: {
  kind: 'project' | 'personal';
  query: UseQueryResult<ApiToken[]>;
  /** The roles a project token may have: up to the caller's own. */
  callerRole?: Role | 'superadmin';
}) {
  const queryClient = useQueryClient();
  const base = kind === 'project' ? '/tokens' : '/me/tokens';
  const key = kind === 'project' ? 'tokens' : 'me-tokens';
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('developer');
  const [expiry, setExpiry] = useState('90');
  const { busy, error, setError, run } = useAsyncAction();
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const id = (s: string) => `${kind}-token-${s}`;

  const roles = ROLES.filter((r) => callerRole === 'superadmin' || roleAtLeast(callerRole as Role | undefined, r));

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!name.trim()) {
      setError('Give the token a name that says where it is used.');
      return;
    }
    await run(async () => {
      const days = EXPIRY.find((x) => x.value === expiry)?.days ?? null;
      const body: Record<string, unknown> = { name: name.trim() };
      if (kind === 'project') body.role = role;
      if (days !== null) body.expires_at = new Date(Date.now() + days * 86_400_000).toISOString();
      const r = await api.post<CreatedToken>(base, body);
      setCreated(r);
      setName('');
      await queryClient.invalidateQueries({ queryKey: [key] });
    });
  };

  const live = (query.data ?? []).filter((t) => !t.revoked_at);
  return (
    <Card title={kind === 'project' ? 'Project tokens' : 'Your personal tokens'}>
      <p className="mb-4 text-sm text-slate-500 dark:text-slate-400">
        {kind === 'project'
          ? 'For CI, scripts and agents: a token acts in this project only, with its role.'
          : 'For the CLI and your own scripts: a personal token acts as you, in every project you belong to.'}
      </p>
      <form onSubmit={create} className={`mb-4 grid items-start gap-3 ${kind === 'project' ? 'sm:grid-cols-[1fr_auto_auto_auto]' : 'sm:grid-cols-[1fr_auto_auto]'}`} noValidate>
        <Field label="Token name" htmlFor={id('name')}>
          <Input id={id('name')} value={name} onChange={(e) => setName(e.target.value)} placeholder={kind === 'project' ? 'ci-deploy' : 'laptop'} autoComplete="off" />
        </Field>
        {kind === 'project' && (
          <Field label="Role" htmlFor={id('role')}>
            <OptionsSelect id={id('role')} value={role} onValue={(r) => setRole(r as Role)} options={roles} />
          </Field>
        )}
        <Field label="Expires" htmlFor={id('expiry')}>
          <OptionsSelect id={id('expiry')} value={expiry} onValue={setExpiry} options={EXPIRY} />
        </Field>
        <div className="sm:pt-6">
          <Button type="submit" variant="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create token'}
          </Button>
        </div>
      </form>
      <FormError error={error} className="mb-3" />
      {query.isPending ? (
        <Spinner />
      ) : query.isError ? (
        <ErrorPanel error={query.error} retry={() => void query.refetch()} />
      ) : live.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">No tokens yet.</p>
      ) : (
        <CardTable label={kind === 'project' ? 'Project tokens' : 'Personal tokens'}>
            <thead>
              <tr>
                <th className={TH}>Name</th>
                {kind === 'project' && <th className={TH}>Role</th>}
                <th className={TH}>Last used</th>
                <th className={TH}>Expires</th>
                <ActionsHeader />
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {live.map((t) => {
                const expired = t.expires_at !== null && Date.parse(t.expires_at) < Date.now();
                return (
                  <tr key={t.id}>
                    <td className={TD}>
                      <span className="font-medium">{t.name}</span>
                      {typeof t.hint === 'string' && <span className="ml-2 font-mono text-xs text-slate-500">…{t.hint}</span>}
                    </td>
                    {kind === 'project' && <td className={TD}>{t.role ?? '–'}</td>}
                    <td className={`${TD} whitespace-nowrap text-slate-500 dark:text-slate-400`}>{t.last_used_at ? <Time at={t.last_used_at} /> : 'never'}</td>
                    <td className={`${TD} whitespace-nowrap ${expired ? 'font-medium text-red-600 dark:text-red-400' : 'text-slate-500 dark:text-slate-400'}`}>
                      {t.expires_at ? expired ? 'expired' : <Time at={t.expires_at} /> : 'never'}
                    </td>
                    <ActionsCell>
                      <Button size="sm" variant="ghost" onClick={() => setRevoking(t)} aria-label={`Revoke token ${t.name}`}>
                        Revoke
                      </Button>
                    </ActionsCell>
                  </tr>
                );
              })}
            </tbody>
        </CardTable>
      )}
      <TokenCreatedDialog token={created} onClose={() => setCreated(null)} />
      <ConfirmDelete
        item={revoking}
        onClose={() => setRevoking(null)}
        title={(t) => `Revoke token ${t.name}?`}
        confirmLabel="Revoke token"
        path={(t) => `${base}/${encodeURIComponent(t.id)}`}
        queryKey={[key]}
        done={(t) => `Token ${t.name} revoked`}
      >
        {(t) => (
          <>
            Anything using <strong>{t.name}</strong> is refused from now on. This cannot be undone.
          </>
        )}
      </ConfirmDelete>
    </Card>
  );
}
