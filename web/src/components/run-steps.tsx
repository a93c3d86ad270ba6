import type { RunStep, StepStatus } from '../api/runs.ts';
import type { LogLine } from './run-log-stream.ts';
import { formatDuration, runDuration } from './time.tsx';

// A run's steps in order: each with its state in words (and an icon), exit code and duration.
// A failed step stands out: red ring, its error, and the last lines it wrote to stderr, so the
// reason a run failed is visible without reading the whole log.

const STEP: Record<StepStatus, { icon: string; label: string; className: string }> = {
  pending: { icon: '○', label: 'pending', className: 'text-slate-400 dark:text-slate-500' },
  running: { icon: '●', label: 'running', className: 'text-blue-600 dark:text-blue-400 hr-pulse' },
  succeeded: { icon: '✓', label: 'succeeded', className: 'text-green-600 dark:text-green-400' },
  failed: { icon: '✕', label: 'failed', className: 'text-red-600 dark:text-red-400' },
  timed_out: { icon: '⏱', label: 'timed out', className: 'text-slate-500 dark:text-slate-400' },
  canceled: { icon: '⊘', label: 'canceled', className: 'text-slate-500 dark:text-slate-400' },
  skipped: { icon: '–', label: 'skipped', className: 'text-slate-400 dark:text-slate-500' },
};

const STDERR_SHOWN = 12;

export function RunSteps({ steps, lines, now }: { steps: RunStep[]; lines: LogLine[]; now: number }) {
  if (steps.length === 0) {
    return <p className="px-4 py-3 text-sm text-slate-500 dark:text-slate-400">The steps appear when a worker starts the run.</p>;
  }
  return (
    <ol className="divide-y divide-slate-100 dark:divide-slate-800" aria-label="Steps">
      {steps.map((step) => {
        const s = STEP[step.status] ?? STEP.pending;
        const failed = step.status === 'failed' || step.status === 'timed_out';
        const duration = runDuration(step, now);
        const stderr = failed ? lines.filter((l) => l.stepIdx === step.idx && l.stream === 'stderr').slice(-STDERR_SHOWN) : [];
        return (
          <li
            key={step.idx}
            aria-label={`Step ${step.idx + 1}: ${step.name}, ${s.label}`}
            data-step-status={step.status}
            className={`px-4 py-3 ${failed ? 'bg-red-50 ring-2 ring-inset ring-red-300 dark:bg-red-950/30 dark:ring-red-900' : ''}`}
          >
            <div className="flex items-start gap-3">
              <span className={`mt-0.5 w-4 shrink-0 text-center text-sm ${s.className}`} aria-hidden>
                {s.icon}
              </span>
              <div className="min-w-0 flex-1">
                <div className="flex items-baseline justify-between gap-2">
                  <p className="truncate text-sm font-medium" title={step.name}>
                    <span className="text-slate-400 dark:text-slate-500">{step.idx + 1}.</span> {step.name}
                  </p>
                  <span className="shrink-0 text-xs tabular-nums text-slate-500 dark:text-slate-400">{duration === null ? '' : formatDuration(Math.max(0, duration))}</span>
                </div>
                <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">
                  <span className={failed ? 'font-semibold text-red-700 dark:text-red-300' : ''}>{s.label}</span>
                  {step.exit_code !== null && (
                    <>
                      {' · '}
                      <span className={failed ? 'font-semibold text-red-700 dark:text-red-300' : ''}>exit code {step.exit_code}</span>
                    </>
                  )}
                </p>
                {step.error && <p className="mt-1.5 text-xs text-red-700 dark:text-red-300">{step.error}</p>}
                {stderr.length > 0 && (
                  <div className="mt-2">
                    <p className="text-[11px] font-semibold uppercase tracking-wide text-red-700 dark:text-red-300">Last stderr lines</p>
                    <pre className="mt-1 max-h-48 overflow-auto rounded bg-slate-950 px-2 py-1.5 font-mono text-xs whitespace-pre-wrap break-words text-red-200">
                      {stderr.map((l) => l.text).join('\n')}
                    </pre>
                  </div>
                )}
              </div>
            </div>
          </li>
        );
      })}
    </ol>
  );
}
