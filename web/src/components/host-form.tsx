import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useSecrets, type Host, type HostInput } from '../api/admin.ts';
import { api, ApiError, errorMessage } from '../api/client.ts';
import { Dialog } from './dialog.tsx';
import { HostKeyConfirm, HostTest } from './host-connection.tsx';
import { FormError } from './form-error.tsx';
import { useAsyncAction } from './use-async-action.ts';
import { Button, Field, Input, Select } from './ui.tsx';

// Adding a host, in three steps in one dialog: the definition (credentials are secrets picked
// by name, never values), then its host key shown for confirmation before anything is pinned,
// then "Test connection".

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const LABEL = /^[A-Za-z0-9._-]{1,64}$/;

type Step = { kind: 'form' } | { kind: 'key'; host: string } | { kind: 'test'; host: string; fingerprint: string };

export function AddHostDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const [step, setStep] = useState<Step>({ kind: 'form' });
  const close = (o: boolean) => {
    onOpenChange(o);
    if (!o) setStep({ kind: 'form' });
  };
  return (
    <Dialog
      open={open}
      onOpenChange={close}
      wide
      title={step.kind === 'form' ? 'Add host' : step.kind === 'key' ? `Verify ${step.host}` : `${step.host} is ready`}
      description={step.kind === 'form' ? 'A machine jobs run on over SSH. Store its key or password as a secret first.' : undefined}
    >
      {step.kind === 'form' && <HostForm onSaved={(h) => setStep({ kind: 'key', host: h.name })} />}
      {step.kind === 'key' && (
        <div className="space-y-4">
          <HostKeyConfirm host={step.host} onPinned={(fingerprint) => setStep({ kind: 'test', host: step.host, fingerprint })} />
          <div className="flex justify-end">
            <Button onClick={() => close(false)}>Not now</Button>
          </div>
        </div>
      )}
      {step.kind === 'test' && (
        <div className="space-y-4">
          <p className="text-sm text-green-700 dark:text-green-400">
            Host key pinned: <span className="break-all font-mono">{step.fingerprint}</span>
          </p>
          <HostTest host={step.host} />
          <div className="flex justify-end">
            <Button variant="primary" onClick={() => close(false)}>
              Done
            </Button>
          </div>
        </div>
      )}
    </Dialog>
  );
}

function HostForm({ onSaved }: { onSaved: (h: Host) => void }) {
  const queryClient = useQueryClient();
  const secrets = useSecrets();
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [port, setPort] = useState('22');
  const [username, setUsername] = useState('');
  const [os, setOs] = useState<'linux' | 'windows'>('linux');
  const [shell, setShell] = useState('');
  const [labels, setLabels] = useState('');
  const [auth, setAuth] = useState<'key' | 'password'>('key');
  const [keySecret, setKeySecret] = useState('');
  const [passphraseSecret, setPassphraseSecret] = useState('');
  const [passwordSecret, setPasswordSecret] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const { busy, error, setError, run } = useAsyncAction();

  const labelList = labels
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);

  const validate = (): Record<string, string> => {
    const e: Record<string, string> = {};
    if (!NAME.test(name)) e.name = 'Letters, digits, dot, _ and -, starting with a letter or digit.';
    if (!address.trim() || /\s/.test(address) || address.startsWith('-')) e.address = 'A host name or IP address.';
    const p = Number(port);
    if (!Number.isInteger(p) || p < 1 || p > 65535) e.port = 'A port from 1 to 65535.';
    if (!username.trim() || /[\s@:]/.test(username) || username.startsWith('-')) e.username = 'A user name (no spaces, @ or :).';
    const bad = labelList.find((l) => !LABEL.test(l));
    if (bad) e.labels = `"${bad}" is not a label: letters, digits, dot, _ and -.`;
    if (auth === 'key' && !keySecret) e.keySecret = 'Pick the secret that holds the private key.';
    if (auth === 'password' && !passwordSecret) e.passwordSecret = 'Pick the secret that holds the password.';
    return e;
  };

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const e = validate();
    setErrors(e);
    setError(null);
    if (Object.keys(e).length > 0) return;
    await run(async () => {
      const existing = await api.get<{ host: Host }>(`/hosts/${encodeURIComponent(name)}`).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      });
      if (existing) {
        setErrors({ name: `A host named ${name} already exists.` });
        return;
      }
      const body: HostInput = {
        address: address.trim(),
        port: Number(port),
        username: username.trim(),
        os,
        shell: shell || null,
        labels: labelList,
        key_secret: auth === 'key' ? keySecret : null,
        passphrase_secret: auth === 'key' && passphraseSecret ? passphraseSecret : null,
        password_secret: auth === 'password' ? passwordSecret : null,
      };
      const r = await api.put<{ host: Host }>(`/hosts/${encodeURIComponent(name)}`, body);
      await queryClient.invalidateQueries({ queryKey: ['hosts'] });
      onSaved(r.host);
    });
  };

  const secretOptions = (secrets.data ?? []).map((s) => (
    <option key={s.name} value={s.name}>
      {s.name}
    </option>
  ));
  const noSecrets = secrets.isSuccess && secrets.data.length === 0;
  const invalid = (k: string, id = `host-${k}`) => (errors[k] ? { 'aria-invalid': true as const, 'aria-describedby': `${id}-error` } : {});

  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Name" htmlFor="host-name" error={errors.name} hint="How jobs refer to it: runs-on: web-1">
          <Input id="host-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="web-1" autoFocus {...invalid('name')} />
        </Field>
        <Field label="User" htmlFor="host-username" error={errors.username}>
          <Input id="host-username" value={username} onChange={(e) => setUsername(e.target.value)} placeholder="deploy" autoComplete="off" {...invalid('username')} />
        </Field>
        <Field label="Address" htmlFor="host-address" error={errors.address}>
          <Input id="host-address" value={address} onChange={(e) => setAddress(e.target.value)} placeholder="10.0.0.12 or web-1.internal" {...invalid('address')} />
        </Field>
        <Field label="Port" htmlFor="host-port" error={errors.port}>
          <Input id="host-port" inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} {...invalid('port')} />
        </Field>
        <Field label="Operating system" htmlFor="host-os">
          <Select id="host-os" value={os} onChange={(e) => setOs(e.target.value as 'linux' | 'windows')}>
            <option value="linux">Linux</option>
            <option value="windows">Windows</option>
          </Select>
        </Field>
        <Field label="Shell" htmlFor="host-shell">
          <Select id="host-shell" value={shell} onChange={(e) => setShell(e.target.value)}>
            <option value="">Default ({os === 'windows' ? 'powershell' : 'bash'})</option>
            {['bash', 'sh', 'pwsh', 'powershell', 'cmd'].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      <Field label="Labels" htmlFor="host-labels" error={errors.labels} hint="Comma-separated, for runs-on: { labels: [...] }">
        <Input id="host-labels" value={labels} onChange={(e) => setLabels(e.target.value)} placeholder="web, eu" {...invalid('labels')} />
      </Field>

      <fieldset className="space-y-3 rounded-md p-3 ring-1 ring-slate-200 dark:ring-slate-700">
        <legend className="px-1 text-sm font-medium text-slate-700 dark:text-slate-300">Credential</legend>
        <div className="flex flex-wrap gap-4 text-sm">
          <label className="inline-flex items-center gap-2">
            <input type="radio" name="host-auth" checked={auth === 'key'} onChange={() => setAuth('key')} /> Private key
          </label>
          <label className="inline-flex items-center gap-2">
            <input type="radio" name="host-auth" checked={auth === 'password'} onChange={() => setAuth('password')} /> Password
          </label>
        </div>
        {secrets.isError && <p className="text-sm text-red-600 dark:text-red-400">Could not list secrets: {errorMessage(secrets.error)}</p>}
        {noSecrets && (
          <p className="text-sm text-amber-700 dark:text-amber-400">
            No secrets yet. <Link to="/secrets" className="underline">Store the key or password as a secret</Link> first.
          </p>
        )}
        {auth === 'key' ? (
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Key secret" htmlFor="host-key-secret" error={errors.keySecret}>
              <Select id="host-key-secret" value={keySecret} onChange={(e) => setKeySecret(e.target.value)} {...invalid('keySecret', 'host-key-secret')}>
                <option value="">Choose a secret…</option>
                {secretOptions}
              </Select>
            </Field>
            <Field label="Passphrase secret (optional)" htmlFor="host-passphrase-secret">
              <Select id="host-passphrase-secret" value={passphraseSecret} onChange={(e) => setPassphraseSecret(e.target.value)}>
                <option value="">None</option>
                {secretOptions}
              </Select>
            </Field>
          </div>
        ) : (
          <Field label="Password secret" htmlFor="host-password-secret" error={errors.passwordSecret}>
            <Select id="host-password-secret" value={passwordSecret} onChange={(e) => setPasswordSecret(e.target.value)} {...invalid('passwordSecret', 'host-password-secret')}>
              <option value="">Choose a secret…</option>
              {secretOptions}
            </Select>
          </Field>
        )}
      </fieldset>

      <FormError error={error} />
      <div className="flex justify-end gap-2">
        <Button type="submit" variant="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Add host and read its key'}
        </Button>
      </div>
    </form>
  );
}
