import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, setCsrfToken } from '../api/client.ts';
import type { User } from '../api/types.ts';
import { Centered } from '../app/routes.tsx';
import { UnreachableBanner } from '../app/layout.tsx';
import { FormError } from '../components/form-error.tsx';
import { useAsyncAction } from '../components/use-async-action.ts';
import { Button, Field, Input } from '../components/ui.tsx';

// Email and password for a browser session. The first user of a new installation is created
// on /setup with the one-time link `hostrun start` prints.

/** Start a browser session: the cookie comes with the answer, the CSRF token in it; then who is signed in is read again. */
export async function signIn(queryClient: QueryClient, email: string, password: string): Promise<void> {
  const r = await api.post<{ user: User; csrf_token: string }>('/auth/login', { email, password });
  setCsrfToken(r.csrf_token);
  await queryClient.invalidateQueries({ queryKey: ['me'] });
}

export function SignInPage({ next }: { next: string }) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, run } = useAsyncAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await run(async () => {
      await signIn(queryClient, email, password);
      if (next && next !== window.location.pathname + window.location.search) window.history.replaceState(null, '', next);
    });
  };

  return (
    <Centered>
      <UnreachableBanner />
      <form onSubmit={submit} className="space-y-4 rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800" aria-labelledby="signin-title">
        <h1 id="signin-title" className="text-lg font-semibold">
          Sign in
        </h1>
        <Field label="Email" htmlFor="email">
          <Input id="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </Field>
        <Field label="Password" htmlFor="password">
          <Input id="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <FormError error={error} />
        <Button type="submit" variant="primary" className="w-full" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
      <p className="text-center text-xs text-slate-500">
        New installation? Open the setup link that <code>hostrun start</code> printed.
      </p>
    </Centered>
  );
}
