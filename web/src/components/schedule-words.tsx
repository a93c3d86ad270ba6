import type { ScheduleSummary } from '../api/jobs.ts';

// A job's schedules in words, as the API describes them ("Every hour, Europe/Berlin"); the
// words are computed server-side (core/cron.ts describeSchedule) so the CLI and the UI agree.

export function ScheduleWords({ schedules, compact = false }: { schedules: Pick<ScheduleSummary, 'description' | 'enabled'>[]; compact?: boolean }) {
  if (schedules.length === 0) return <span className="text-slate-500 dark:text-slate-400">{compact ? 'No schedule' : 'Manual only'}</span>;
  return (
    <span className={compact ? '' : 'flex flex-col gap-0.5'}>
      {schedules.map((s, i) => (
        <span key={i} className={s.enabled ? '' : 'text-slate-400 dark:text-slate-500'}>
          {compact && i > 0 ? '; ' : ''}
          {s.description}
          {!s.enabled && ' (paused)'}
        </span>
      ))}
    </span>
  );
}
