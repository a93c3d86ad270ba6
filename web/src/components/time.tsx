import { useEffect, useState } from 'react';

// Times as people read them ("3 min ago", "in 12 min") with the exact time on hover, and
// durations ("1.2 s", "3 min 4 s"). Relative labels refresh themselves.

export function useNow(intervalMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

export function relative(iso: string | Date, now = Date.now()): string {
  const t = typeof iso === 'string' ? Date.parse(iso) : iso.getTime();
  const diff = t - now;
  const abs = Math.abs(diff);
  const past = diff <= 0;
  let text: string;
  if (abs < 45_000) return past ? 'just now' : 'in a few seconds';
  if (abs < 3_600_000) text = `${Math.round(abs / 60_000)} min`;
  else if (abs < 86_400_000) text = `${Math.round(abs / 3_600_000)} h`;
  else text = `${Math.round(abs / 86_400_000)} d`;
  return past ? `${text} ago` : `in ${text}`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  if (m < 60) return s ? `${m} min ${s} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

export function runDuration(run: { started_at: string | null; finished_at: string | null }, now = Date.now()): number | null {
  if (!run.started_at) return null;
  return (run.finished_at ? Date.parse(run.finished_at) : now) - Date.parse(run.started_at);
}

export function Time({ at, now }: { at: string | null | undefined; now?: number }) {
  const tick = useNow();
  if (!at) return <span className="text-slate-400">–</span>;
  return (
    <time dateTime={at} title={new Date(at).toLocaleString()}>
      {/* The tick only forces a refresh; the time itself is read now, or a row created a
          moment ago would read "in a few seconds" until the next tick. */}
      {relative(at, now ?? Math.max(tick, Date.now()))}
    </time>
  );
}
