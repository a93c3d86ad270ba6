import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ROLES, useMembers, usePersonalTokens, useProjectTokens, type Member } from '../api/admin.ts';
import { api, errorMessage } from '../api/client.ts';
import { roleAtLeast, type Role } from '../api/types.ts';
import { useSession } from '../app/session.tsx';
import { ConfirmDelete } from '../components/confirm-dialog.tsx';
import { FormError } from '../components/form-error.tsx';
import { useAsyncAction } from '../components/use-async-action.ts';
import { OptionsSelect } from '../components/options-select.tsx';
import { ActionsCell, ActionsHeader, CardTable } from '../components/table-parts.tsx';
import { Time } from '../components/time.tsx';
import { useToast } from '../components/toast.tsx';
import { TokenPanel } from '../components/token-panel.tsx';
import { Button, Card, ErrorPanel, Field, Input, PageHeader, Spinner, TD, TH } from '../components/ui.tsx';

// Who is in the project with which role, the project's API tokens, and the caller's personal
// tokens. The API has the last word on roles (nobody grants above their own role, only owners
// touch owners, a project keeps an owner); the page offers only what it would allow.

const ROLE_HELP: Record<Role, string> = {
  viewer: 'reads jobs, runs and logs',
  developer: 'also writes jobs, runs and cancels them',
  admin: 'also manages hosts, secrets, members and tokens',
  owner: 'also changes and deletes the project',
};

export function MembersPage() {
  const { me, project, can } = useSession();
  const admin = can('admin');
  const callerRole: Role | 'superadmin' = me.is_superadmin ? 'superadmin' : project.role;
  const members = useMembers();
  const projectTokens = useProjectTokens(admin);
  const personal = me.kind === 'session' || me.kind === 'supabase';
  const personalTokens = usePersonalTokens(personal);

  return (
    <>
      <PageHeader title="Members & tokens" subtitle={`Who can do what in ${project.name ?? project.slug}, and the API tokens that act in it.`} />
      <div className="space-y-6">
        <Card title="Members">
          {admin && <AddMember callerRole={callerRole} />}
          {members.isPending ? (
            <Spinner />
          ) : members.isError ? (
            <ErrorPanel error={members.error} retry={() => void members.refetch()} />
          ) : (
            <MemberTable members={members.data} admin={admin} callerRole={callerRole} selfId={me.user?.id ?? null} />
          )}
        </Card>
        {admin && <TokenPanel kind="project" query={projectTokens} callerRole={callerRole} />}
        {personal && <TokenPanel kind="personal" query={personalTokens} />}
      </div>
    </>
  );
}

/** Roles the caller may grant or take away: up to their own (owners and superadmins: all). */
function grantable(callerRole: Role | 'superadmin', role: Role): boolean {
  return callerRole === 'superadmin' || roleAtLeast(callerRole, role);
}

function AddMember({ callerRole }: { callerRole: Role | 'superadmin' }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('developer');
  const { busy, error, setError, run } = useAsyncAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) {
      setError('Enter the email address the person signs in with.');
      return;
    }
    await run(async () => {
      await api.post('/members', { user: email.trim(), role });
      await queryClient.invalidateQueries({ queryKey: ['members'] });
      toast(`${email.trim()} is now ${role}`);
      setEmail('');
    });
  };

  return (
    <form onSubmit={submit} className="mb-4 space-y-2" noValidate>
      <div className="grid items-start gap-3 sm:grid-cols-[1fr_auto_auto]">
        <Field label="Add a member by email" htmlFor="member-email">
          <Input id="member-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="alice@example.com" autoComplete="off" />
        </Field>
        <Field label="Role" htmlFor="member-role">
          <OptionsSelect id="member-role" value={role} onValue={(r) => setRole(r as Role)} options={ROLES.filter((r) => grantable(callerRole, r))} />
        </Field>
        <div className="sm:pt-6">
          <Button type="submit" variant="primary" disabled={busy}>
            {busy ? 'Adding…' : 'Add member'}
          </Button>
        </div>
      </div>
      <p className="text-xs text-slate-500 dark:text-slate-400">
        {role}: {ROLE_HELP[role]}. The person needs a Hostrun user already (an installation admin creates it).
      </p>
      <FormError error={error} />
    </form>
  );
}

function MemberTable({ members, admin, callerRole, selfId }: { members: Member[]; admin: boolean; callerRole: Role | 'superadmin'; selfId: string | null }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [removing, setRemoving] = useState<Member | null>(null);
  const [rowError, setRowError] = useState<{ user: string; message: string } | null>(null);
  const owners = members.filter((m) => m.role === 'owner').length;

  const changeRole = async (m: Member, role: Role) => {
    setRowError(null);
    try {
      await api.patch(`/members/${encodeURIComponent(m.user_id)}`, { role });
      await queryClient.invalidateQueries({ queryKey: ['members'] });
      toast(`${m.email} is now ${role}`);
    } catch (err) {
      setRowError({ user: m.user_id, message: errorMessage(err) });
    }
  };

  return (
    <>
      <CardTable label="Members">
        <thead>
          <tr>
            <th className={TH}>Member</th>
            <th className={TH}>Role</th>
            <th className={`${TH} hidden sm:table-cell`}>Since</th>
            {admin && <ActionsHeader />}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
          {members.length === 0 && (
            <tr>
              <td colSpan={4} className={`${TD} text-slate-500 dark:text-slate-400`}>
                No members yet. Installation admins act in every project without being members.
              </td>
            </tr>
          )}
          {members.map((m) => {
            const lastOwner = m.role === 'owner' && owners <= 1;
            const editable = admin && grantable(callerRole, m.role) && !lastOwner;
            return (
              <tr key={m.user_id}>
                <td className={TD}>
                  <div className="font-medium">
                    {m.name ?? m.email}
                    {m.user_id === selfId && <span className="ml-2 text-xs font-normal text-slate-500">(you)</span>}
                  </div>
                  {m.name && <div className="text-xs text-slate-500 dark:text-slate-400">{m.email}</div>}
                  {rowError?.user === m.user_id && (
                    <p role="alert" className="mt-1 text-xs text-red-600 dark:text-red-400">
                      {rowError.message}
                    </p>
                  )}
                </td>
                <td className={TD}>
                  {editable ? (
                    <div className="w-36">
                      <OptionsSelect
                        aria-label={`Role of ${m.email}`}
                        value={m.role}
                        onValue={(r) => void changeRole(m, r as Role)}
                        options={ROLES.filter((r) => grantable(callerRole, r))}
                      />
                    </div>
                  ) : (
                    <span title={lastOwner ? 'The last owner: make someone else owner first' : undefined}>{m.role}</span>
                  )}
                </td>
                <td className={`${TD} hidden whitespace-nowrap text-slate-500 sm:table-cell dark:text-slate-400`}>
                  <Time at={m.created_at} />
                </td>
                {admin && (
                  <ActionsCell>
                    {editable && (
                      <Button size="sm" variant="ghost" onClick={() => setRemoving(m)} aria-label={`Remove ${m.email}`}>
                        Remove
                      </Button>
                    )}
                  </ActionsCell>
                )}
              </tr>
            );
          })}
        </tbody>
      </CardTable>
      <ConfirmDelete
        item={removing}
        onClose={() => setRemoving(null)}
        title={(m) => `Remove ${m.email}?`}
        confirmLabel="Remove member"
        path={(m) => `/members/${encodeURIComponent(m.user_id)}`}
        queryKey={['members']}
        done={(m) => `${m.email} removed`}
      >
        {(m) => <>{m.email} loses access to this project at once. Their tokens for other projects are not affected.</>}
      </ConfirmDelete>
    </>
  );
}
