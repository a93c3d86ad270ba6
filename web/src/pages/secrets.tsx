import { useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { useSecrets, type SecretMeta } from '../api/admin.ts';
import { api } from '../api/client.ts';
import { useSession } from '../app/session.tsx';
import { ConfirmDelete } from '../components/confirm-dialog.tsx';
import { Dialog } from '../components/dialog.tsx';
import { FormError } from '../components/form-error.tsx';
import { useAsyncAction } from '../components/use-async-action.ts';
import { ActionsCell, ActionsHeader } from '../components/table-parts.tsx';
import { Time } from '../components/time.tsx';
import { useToast } from '../components/toast.tsx';
import { Button, Code, EmptyState, ErrorPanel, Field, Input, PageHeader, Spinner, Table, TD, TH, Textarea } from '../components/ui.tsx';

// Secrets are write-only: the API lists names and times and never returns a value, and this
// page never keeps one longer than the request that stores it (the field clears on success).

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const MAX_BYTES = 64 * 1024;

export function SecretsPage() {
  const { can } = useSession();
  const admin = can('admin');
  const q = useSecrets(admin);
  const [editing, setEditing] = useState<{ name: string | null } | null>(null);
  const [deleting, setDeleting] = useState<SecretMeta | null>(null);

  if (!admin) {
    return (
      <>
        <PageHeader title="Secrets" />
        <EmptyState title="Only admins manage secrets">Ask an admin of this project to set or replace a secret.</EmptyState>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Secrets"
        subtitle="Keys, passwords and tokens your jobs use. Values are encrypted and never shown again after you save them."
        actions={
          <Button variant="primary" onClick={() => setEditing({ name: null })}>
            New secret
          </Button>
        }
      />
      {q.isPending ? (
        <Spinner />
      ) : q.isError ? (
        <ErrorPanel error={q.error} retry={() => void q.refetch()} />
      ) : q.data.length === 0 ? (
        <EmptyState
          title="No secrets yet"
          action={
            <Button variant="primary" onClick={() => setEditing({ name: null })}>
              New secret
            </Button>
          }
        >
          <p>
            Store an SSH key for a host, or a token a step needs; steps read it as <Code>{'${{ secrets.NAME }}'}</Code> and logs mask it.
          </p>
        </EmptyState>
      ) : (
        <Table label="Secrets">
          <thead>
            <tr>
              <th className={TH}>Name</th>
              <th className={TH}>Value</th>
              <th className={`${TH} hidden sm:table-cell`}>Created</th>
              <th className={TH}>Updated</th>
              <ActionsHeader />
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {q.data.map((s) => (
              <tr key={s.name}>
                <td className={`${TD} font-mono text-sm font-medium`}>{s.name}</td>
                <td className={`${TD} text-slate-400`} aria-label="hidden">
                  ••••••••
                </td>
                <td className={`${TD} hidden whitespace-nowrap text-slate-500 sm:table-cell dark:text-slate-400`}>
                  <Time at={s.created_at} />
                </td>
                <td className={`${TD} whitespace-nowrap text-slate-500 dark:text-slate-400`}>
                  <Time at={s.updated_at} />
                </td>
                <ActionsCell>
                  <Button size="sm" onClick={() => setEditing({ name: s.name })} aria-label={`Replace secret ${s.name}`}>
                    Replace
                  </Button>
                  <Button size="sm" variant="ghost" onClick={() => setDeleting(s)} aria-label={`Delete secret ${s.name}`}>
                    Delete
                  </Button>
                </ActionsCell>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {editing && <SecretDialog name={editing.name} onClose={() => setEditing(null)} />}
      <ConfirmDelete
        item={deleting}
        onClose={() => setDeleting(null)}
        title={(s) => `Delete secret ${s.name}?`}
        confirmLabel="Delete secret"
        path={(s) => `/secrets/${encodeURIComponent(s.name)}`}
        queryKey={['secrets']}
        done={(s) => `Secret ${s.name} deleted`}
      >
        {(s) => (
          <>
            Jobs and hosts that use <strong className="font-mono">{s.name}</strong> will fail until it is set again. The value cannot be recovered.
          </>
        )}
      </ConfirmDelete>
    </>
  );
}

/** Set a new secret (name given here) or replace one (name fixed). */
function SecretDialog({ name: fixedName, onClose }: { name: string | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(fixedName ?? '');
  const [value, setValue] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [errors, setErrors] = useState<{ name?: string; value?: string }>({});
  const { busy, error, setError, run } = useAsyncAction();
  const fileInput = useRef<HTMLInputElement>(null);

  const readFile = async (file: File | undefined) => {
    if (!file) return;
    if (file.size > MAX_BYTES) {
      setErrors((e) => ({ ...e, value: `${file.name} is larger than 64 KiB.` }));
      return;
    }
    setValue(await file.text());
    setFileName(file.name);
    setErrors((e) => ({ ...e, value: undefined }));
  };

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const e: typeof errors = {};
    if (!NAME.test(name)) e.name = 'Letters, digits, _ and -, starting with a letter or _.';
    if (!value) e.value = 'Enter a value or choose a file.';
    else if (new TextEncoder().encode(value).length > MAX_BYTES) e.value = 'At most 64 KiB.';
    setErrors(e);
    setError(null);
    if (e.name || e.value) return;
    await run(async () => {
      const r = await api.put<{ name: string; created: boolean }>(`/secrets/${encodeURIComponent(name)}`, { value });
      // The value leaves the page with the request: nothing keeps it afterwards.
      setValue('');
      setFileName(null);
      if (fileInput.current) fileInput.current.value = '';
      await queryClient.invalidateQueries({ queryKey: ['secrets'] });
      toast(r.created ? `Secret ${name} saved` : `Secret ${name} replaced`);
      onClose();
    });
  };

  return (
    <Dialog
      open
      onOpenChange={(o) => !o && onClose()}
      wide
      title={fixedName ? `Replace ${fixedName}` : 'New secret'}
      description="The value is encrypted on the server and never shown again, here or in the API."
    >
      <form onSubmit={submit} className="space-y-4" noValidate>
        {!fixedName && (
          <Field label="Name" htmlFor="secret-name" error={errors.name} hint="Steps read it as ${{ secrets.NAME }}">
            <Input
              id="secret-name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="deploy_key"
              autoComplete="off"
              autoFocus
              aria-invalid={errors.name ? true : undefined}
            />
          </Field>
        )}
        <Field label="Value" htmlFor="secret-value" error={errors.value} hint={fileName ? `Read from ${fileName}` : 'Paste it, or read it from a file (an SSH private key, say).'}>
          <Textarea
            id="secret-value"
            rows={7}
            value={value}
            onChange={(e) => {
              setValue(e.target.value);
              setFileName(null);
            }}
            spellCheck={false}
            autoComplete="off"
            aria-invalid={errors.value ? true : undefined}
            className="text-xs"
          />
        </Field>
        <div>
          <label htmlFor="secret-file" className="text-sm font-medium text-slate-700 dark:text-slate-300">
            Or read from a file
          </label>
          <input
            ref={fileInput}
            id="secret-file"
            type="file"
            className="mt-1 block w-full text-sm text-slate-600 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-1.5 file:text-sm file:font-medium dark:text-slate-300 dark:file:bg-slate-800 dark:file:text-slate-200"
            onChange={(e) => void readFile(e.target.files?.[0])}
          />
        </div>
        <FormError error={error} />
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={busy}>
            {busy ? 'Saving…' : fixedName ? 'Replace secret' : 'Save secret'}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
