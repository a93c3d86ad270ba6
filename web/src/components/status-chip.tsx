import type { RunStatus } from '../api/types.ts';

// One colour per state, the same everywhere: queued yellow, running blue (pulsing),
// succeeded green, failed red, canceled and timed out grey.

const STYLE: Record<RunStatus, string> = {
  queued: 'bg-yellow-100 text-yellow-800 ring-yellow-300 dark:bg-yellow-900/40 dark:text-yellow-200 dark:ring-yellow-700',
  claimed: 'bg-yellow-100 text-yellow-800 ring-yellow-300 dark:bg-yellow-900/40 dark:text-yellow-200 dark:ring-yellow-700',
  running: 'bg-blue-100 text-blue-800 ring-blue-300 dark:bg-blue-900/40 dark:text-blue-200 dark:ring-blue-700',
  succeeded: 'bg-green-100 text-green-800 ring-green-300 dark:bg-green-900/40 dark:text-green-200 dark:ring-green-700',
  failed: 'bg-red-100 text-red-800 ring-red-300 dark:bg-red-900/40 dark:text-red-200 dark:ring-red-700',
  timed_out: 'bg-slate-200 text-slate-700 ring-slate-300 dark:bg-slate-800 dark:text-slate-300 dark:ring-slate-600',
  canceled: 'bg-slate-200 text-slate-700 ring-slate-300 dark:bg-slate-800 dark:text-slate-300 dark:ring-slate-600',
};

const LABEL: Record<RunStatus, string> = {
  queued: 'queued',
  claimed: 'starting',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  timed_out: 'timed out',
  canceled: 'canceled',
};

export function StatusChip({ status }: { status: RunStatus | string | null | undefined }) {
  if (!status) return <span className="text-xs text-slate-400">never run</span>;
  const s = status as RunStatus;
  const dot = s === 'running' ? 'hr-pulse' : '';
  return (
    <span
      data-status={s}
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STYLE[s] ?? STYLE.canceled}`}
    >
      <span className={`h-1.5 w-1.5 rounded-full bg-current ${dot}`} aria-hidden />
      {LABEL[s] ?? s}
    </span>
  );
}
