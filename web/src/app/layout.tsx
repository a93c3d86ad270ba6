import { useEffect, useState, type ReactNode } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { onReachabilityChange, apiReachable } from '../api/client.ts';
import type { Role } from '../api/types.ts';
import { ErrorBoundary } from '../components/error-boundary.tsx';
import { Select } from '../components/ui.tsx';
import { useLive } from './live.tsx';
import { useSession } from './session.tsx';
import { useTheme, type Theme } from './theme.ts';

// The frame of every signed-in page: navigation (a drawer on a phone), the project switcher,
// the theme toggle, the signed-in user, and the banner when the API stops answering.

const NAV: { to: string; label: string; role?: Role; end?: boolean }[] = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/jobs', label: 'Jobs' },
  { to: '/runs', label: 'Runs' },
  { to: '/hosts', label: 'Hosts' },
  { to: '/secrets', label: 'Secrets', role: 'admin' },
  { to: '/workers', label: 'Workers' },
  { to: '/members', label: 'Members & tokens' },
  { to: '/audit', label: 'Audit log', role: 'admin' },
];

export function Layout() {
  const { me, project, can, switchProject, signOut } = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setMenuOpen(false), [location.pathname]);

  return (
    <div className="min-h-screen md:flex">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 dark:focus:bg-slate-900">
        Skip to content
      </a>
      <aside
        className={`${menuOpen ? 'block' : 'hidden'} border-b border-slate-200 bg-white md:sticky md:top-0 md:block md:h-screen md:w-60 md:shrink-0 md:border-b-0 md:border-r dark:border-slate-800 dark:bg-slate-900`}
        aria-label="Main"
      >
        <div className="hidden items-center gap-2 px-5 py-4 md:flex">
          <Logo />
        </div>
        <div className="px-3 pb-3 pt-3 md:pt-0">
          <label htmlFor="project-switcher" className="mb-1 block px-2 text-xs font-medium uppercase tracking-wide text-slate-500">
            Project
          </label>
          <Select id="project-switcher" value={project.slug} onChange={(e) => switchProject(e.target.value)}>
            {me.projects.map((p) => (
              <option key={p.slug} value={p.slug}>
                {p.name ?? p.slug} ({p.role})
              </option>
            ))}
          </Select>
        </div>
        <nav className="space-y-0.5 px-3 pb-4">
          {NAV.filter((n) => !n.role || can(n.role)).map((n) => (
            <NavLink
              key={n.to}
              to={n.to}
              end={n.end}
              className={({ isActive }) =>
                `block rounded-md px-3 py-2 text-sm font-medium ${isActive ? 'bg-indigo-50 text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300' : 'text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800'}`
              }
            >
              {n.label}
            </NavLink>
          ))}
        </nav>
      </aside>
      <div className="min-w-0 flex-1">
        <header className="sticky top-0 z-30 flex items-center gap-3 border-b border-slate-200 bg-white/90 px-4 py-2.5 backdrop-blur md:px-8 dark:border-slate-800 dark:bg-slate-950/90">
          <button
            type="button"
            className="rounded-md p-1.5 text-slate-600 hover:bg-slate-100 md:hidden dark:text-slate-300 dark:hover:bg-slate-800"
            aria-label={menuOpen ? 'Close menu' : 'Open menu'}
            aria-expanded={menuOpen}
            onClick={() => setMenuOpen((o) => !o)}
          >
            ☰
          </button>
          <div className="md:hidden">
            <Logo />
          </div>
          <div className="flex-1" />
          <LiveIndicator />
          <ThemeToggle />
          <span className="hidden max-w-48 truncate text-sm text-slate-600 sm:inline dark:text-slate-300" title={me.user?.email}>
            {me.user?.name ?? me.user?.email ?? 'API token'}
          </span>
          {me.kind === 'session' && (
            <button type="button" onClick={() => void signOut()} className="rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800">
              Sign out
            </button>
          )}
        </header>
        <UnreachableBanner />
        <main id="main" className="mx-auto max-w-7xl px-4 py-6 md:px-8">
          <ErrorBoundary resetKey={location.pathname}>
            <Outlet />
          </ErrorBoundary>
        </main>
      </div>
    </div>
  );
}

export function Logo() {
  return (
    <span className="flex items-center gap-2 font-semibold tracking-tight">
      <span className="grid h-7 w-7 place-items-center rounded-md bg-indigo-600 text-sm font-bold text-white" aria-hidden>
        H
      </span>
      Hostrun
    </span>
  );
}

function LiveIndicator() {
  const { connected } = useLive();
  return (
    <span className="hidden items-center gap-1.5 text-xs text-slate-500 sm:flex" title={connected ? 'Live updates are on' : 'Reconnecting to live updates'}>
      <span className={`h-2 w-2 rounded-full ${connected ? 'bg-green-500' : 'bg-slate-400'}`} aria-hidden />
      {connected ? 'Live' : 'Connecting'}
    </span>
  );
}

function ThemeToggle() {
  const [theme, setTheme] = useTheme();
  const next: Record<Theme, Theme> = { system: 'light', light: 'dark', dark: 'system' };
  const icon: Record<Theme, string> = { system: '◐', light: '☀', dark: '☾' };
  return (
    <button
      type="button"
      onClick={() => setTheme(next[theme])}
      className="rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
      aria-label={`Theme: ${theme}. Switch to ${next[theme]}`}
      title={`Theme: ${theme}`}
    >
      <span aria-hidden>{icon[theme]}</span>
    </button>
  );
}

/** Shown while requests get no answer; gone with the first one that does. */
export function UnreachableBanner(): ReactNode {
  const [reachable, setReachable] = useState(apiReachable());
  useEffect(() => onReachabilityChange(setReachable), []);
  if (reachable) return null;
  return (
    <div role="alert" className="bg-amber-100 px-4 py-2 text-center text-sm font-medium text-amber-900 dark:bg-amber-900/60 dark:text-amber-100">
      The Hostrun API is not answering. What you see may be out of date; it refreshes when the server is back.
    </div>
  );
}
