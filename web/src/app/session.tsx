import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, setCsrfToken, setProject } from '../api/client.ts';
import { roleAtLeast, type Me, type ProjectRef, type Role } from '../api/types.ts';

// Who is signed in and which project the UI shows. The selected project is remembered per
// browser; switching it drops every cached answer so each page refetches for the new one.

const PROJECT_KEY = 'hostrun.project';

interface Session {
  me: Me;
  project: ProjectRef;
  /** The caller's role in the selected project allows this. */
  can: (role: Role) => boolean;
  switchProject: (slug: string) => void;
  signOut: () => Promise<void>;
  refresh: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}

export type SessionState =
  | { state: 'loading' }
  | { state: 'signed-out' }
  | { state: 'error'; error: unknown }
  | { state: 'no-project'; me: Me }
  | { state: 'ready'; session: Session };

export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      try {
        const me = await api.get<Me>('/me');
        setCsrfToken(me.csrf_token ?? null);
        return me;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return null;
        throw err;
      }
    },
    staleTime: 60_000,
    retry: (count, err) => !(err instanceof ApiError && err.status < 500 && err.status > 0) && count < 2,
  });
}

export function SessionProvider({ children }: { children: (state: SessionState) => ReactNode }) {
  const queryClient = useQueryClient();
  const meQuery = useMe();
  const [slug, setSlug] = useState<string | null>(() => localStorage.getItem(PROJECT_KEY));
  const me = meQuery.data;

  const project = useMemo(() => {
    if (!me) return null;
    return me.projects.find((p) => p.slug === slug) ?? me.projects.find((p) => p.slug === 'default') ?? me.projects[0] ?? null;
  }, [me, slug]);

  // The API client sends the header from here on, before any page's query runs.
  setProject(project?.slug ?? null);

  useEffect(() => {
    if (project) localStorage.setItem(PROJECT_KEY, project.slug);
  }, [project]);

  const switchProject = useCallback(
    (next: string) => {
      setProject(next);
      setSlug(next);
      // Everything cached belongs to the old project, except who the caller is.
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
    },
    [queryClient],
  );

  const signOut = useCallback(async () => {
    try {
      await api.post('/auth/logout');
    } finally {
      setCsrfToken(null);
      // Signed out is "me" answering null; the rest of the cache is the old user's. (Clearing
      // the whole cache would detach the session's observer from the "me" it watches.)
      queryClient.setQueryData(['me'], null);
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
    }
  }, [queryClient]);

  const refresh = useCallback(async () => {
    await queryClient.invalidateQueries({ queryKey: ['me'] });
  }, [queryClient]);

  let state: SessionState;
  if (meQuery.isPending) state = { state: 'loading' };
  else if (meQuery.isError) state = { state: 'error', error: meQuery.error };
  else if (!me) state = { state: 'signed-out' };
  else if (!project) state = { state: 'no-project', me };
  else {
    const session: Session = {
      me,
      project,
      can: (role) => me.is_superadmin || roleAtLeast(project.role, role),
      switchProject,
      signOut,
      refresh,
    };
    state = { state: 'ready', session };
    return <SessionContext.Provider value={session}>{children(state)}</SessionContext.Provider>;
  }
  return <>{children(state)}</>;
}
