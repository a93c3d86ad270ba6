import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { api } from '../api/client.ts';
import type { User } from '../api/types.ts';
import { Centered } from '../app/routes.tsx';
import { FormError } from '../components/form-error.tsx';
import { useAsyncAction } from '../components/use-async-action.ts';
import { Button, Field, Input } from '../components/ui.tsx';
import { signIn } from './sign-in.tsx';

// First-user setup: the one-time token from `hostrun start`'s link creates the superadmin,
// who is then signed in. There is no default password anywhere.

const MIN_PASSWORD = 10; // the API's PASSWORD_MIN_LENGTH

export function SetupPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [token, setToken] = useState(params.get('token') ?? '');
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useAsyncAction();
  const short = password.length > 0 && password.length < MIN_PASSWORD;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password.length < MIN_PASSWORD) return setError(`The password needs at least ${MIN_PASSWORD} characters.`);
    await run(async () => {
      await api.post<{ user: User }>('/setup', { setup_token: token.trim(), email, password, ...(name ? { name } : {}) });
      await signIn(queryClient, email, password);
      navigate('/', { replace: true });
    });
  };

  return (
    <Centered>
      <form onSubmit={submit} className="space-y-4 rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800" aria-labelledby="setup-title">
        <div>
          <h1 id="setup-title" className="text-lg font-semibold">
            Create the first user
          </h1>
          <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">This account administers the whole installation. The setup link works once.</p>
        </div>
        {!params.get('token') && (
          <Field label="Setup token" htmlFor="setup-token" hint="Printed by hostrun start while no user exists.">
            <Input id="setup-token" required value={token} onChange={(e) => setToken(e.target.value)} />
          </Field>
        )}
        <Field label="Email" htmlFor="setup-email">
          <Input id="setup-email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </Field>
        <Field label="Name (optional)" htmlFor="setup-name">
          <Input id="setup-name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Password" htmlFor="setup-password" hint={`At least ${MIN_PASSWORD} characters.`} error={short ? `${MIN_PASSWORD - password.length} more characters` : null}>
          <Input id="setup-password" type="password" autoComplete="new-password" required aria-invalid={short} value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <FormError error={error} />
        <Button type="submit" variant="primary" className="w-full" disabled={busy}>
          {busy ? 'Creating…' : 'Create user and sign in'}
        </Button>
      </form>
    </Centered>
  );
}
