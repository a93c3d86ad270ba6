import { Link, useLocation } from 'react-router';

// A path no page answers: say which, and offer the way back.

export function NotFoundPage() {
  const { pathname } = useLocation();
  return (
    <div className="mx-auto max-w-md py-16 text-center">
      <p className="text-sm font-semibold text-indigo-600 dark:text-indigo-400">404</p>
      <h1 className="mt-2 text-2xl font-semibold tracking-tight">Page not found</h1>
      <p className="mt-2 break-words text-sm text-slate-500 dark:text-slate-400">
        Nothing lives at <code className="font-mono">{pathname}</code>. It may have been renamed or deleted.
      </p>
      <div className="mt-6 flex justify-center gap-3">
        <Link to="/" className="inline-flex items-center rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
          Go to the dashboard
        </Link>
        <Link to="/jobs" className="inline-flex items-center rounded-md px-3.5 py-2 text-sm font-medium text-slate-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 dark:text-slate-200 dark:ring-slate-700 dark:hover:bg-slate-800">
          Jobs
        </Link>
      </div>
    </div>
  );
}
