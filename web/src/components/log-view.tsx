import { useQuery } from '@tanstack/react-query';
import { memo, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { runLogsSearch } from '../api/runs.ts';
import { styleProps, type AnsiSegment } from './ansi.ts';
import { MAX_LINES, type LogLine, type RunLogState } from './run-log-stream.ts';
import { Button, Input } from './ui.tsx';

// A run's log as a terminal: ANSI colours, line numbers, timestamps (toggle), stderr tinted
// and marked "err" (not by colour alone), a divider where a step (or an attempt) begins,
// search with next/previous, follow (keeps the newest line in view; scrolling up stops it,
// the Follow button or scrolling back to the bottom resumes it) and the download link. The
// pane is dark in both themes, like a terminal, so colours read the same everywhere.

const TS_KEY = 'hostrun.log.timestamps';

interface Match {
  line: number;
  start: number;
}

export function LogView({
  runId,
  log,
  stepNames,
  downloadUrl,
  running,
}: {
  runId: number;
  log: RunLogState;
  stepNames: Map<number, string>;
  downloadUrl: string;
  running: boolean;
}) {
  const [showTs, setShowTs] = useState(() => localStorage.getItem(TS_KEY) === '1');
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query.trim().toLowerCase());
  const [current, setCurrent] = useState(0);
  const pane = useRef<HTMLDivElement>(null);

  useEffect(() => localStorage.setItem(TS_KEY, showTs ? '1' : '0'), [showTs]);

  const matches = useMemo<Match[]>(() => {
    if (!deferredQuery) return [];
    const out: Match[] = [];
    log.lines.forEach((l, line) => {
      const hay = l.text.toLowerCase();
      for (let at = hay.indexOf(deferredQuery); at >= 0; at = hay.indexOf(deferredQuery, at + deferredQuery.length)) out.push({ line, start: at });
    });
    return out;
  }, [log.lines, deferredQuery]);

  // A new query starts at its first match.
  useEffect(() => setCurrent(0), [deferredQuery]);
  const active = matches.length > 0 ? matches[Math.min(current, matches.length - 1)]! : null;

  const goTo = (delta: number) => {
    if (matches.length === 0) return;
    setFollow(false);
    setCurrent((c) => (((Math.min(c, matches.length - 1) + delta) % matches.length) + matches.length) % matches.length);
  };

  useEffect(() => {
    if (!active || !pane.current) return;
    const el = pane.current.querySelector<HTMLElement>(`[data-line-index="${active.line}"]`);
    if (el) {
      const top = el.offsetTop - pane.current.clientHeight / 2;
      pane.current.scrollTop = Math.max(0, top);
    }
  }, [active?.line, active?.start]); // eslint-disable-line react-hooks/exhaustive-deps

  useLayoutEffect(() => {
    if (follow && pane.current) pane.current.scrollTop = pane.current.scrollHeight;
  }, [log.lines, follow, showTs]);

  const onScroll = () => {
    const el = pane.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    if (!atBottom && follow) setFollow(false);
    else if (atBottom && !follow && !active) setFollow(true);
  };

  // Ranges to highlight, per line.
  const byLine = useMemo(() => {
    const m = new Map<number, number[]>();
    for (const x of matches) {
      const a = m.get(x.line);
      if (a) a.push(x.start);
      else m.set(x.line, [x.start]);
    }
    return m;
  }, [matches]);

  const dropped = log.total - log.lines.length;
  // Lines not kept in the page are searched on the server: how many of its rows match.
  const firstShown = log.lines[0]?.seq ?? 0;
  const hidden = useQuery({
    queryKey: ['run-log-search', runId, deferredQuery],
    queryFn: ({ signal }) => runLogsSearch(runId, deferredQuery, signal),
    enabled: deferredQuery.length > 0 && (dropped > 0 || log.earlier),
    staleTime: 30_000,
  });
  // The first row shown may be cut: its lines before the first one shown count as not shown.
  const firstPart = Number(log.lines[0]?.key.split(':')[1] ?? 0);
  const hiddenRows = hidden.data
    ? hidden.data.lines.filter(
        (l) =>
          l.seq < firstShown ||
          (l.seq === firstShown &&
            l.text
              .split('\n')
              .slice(0, firstPart)
              .some((t) => t.toLowerCase().includes(deferredQuery))),
      ).length
    : 0;
  const rows: ReactNode[] = [];
  let prevStep: number | null | undefined = undefined;
  let prevAttempt: number | undefined = undefined;
  log.lines.forEach((line, i) => {
    if (prevAttempt !== undefined && line.attempt !== prevAttempt) {
      rows.push(<Divider key={`a-${line.key}`} label={`Attempt ${line.attempt}`} />);
      prevStep = undefined;
    }
    prevAttempt = line.attempt;
    if (line.stepIdx !== null && line.stepIdx !== prevStep) {
      rows.push(<Divider key={`s-${line.key}`} label={`Step ${line.stepIdx + 1}${stepNames.get(line.stepIdx) ? ` · ${stepNames.get(line.stepIdx)}` : ''}`} />);
    }
    if (line.stepIdx !== null) prevStep = line.stepIdx;
    rows.push(
      <LogLineView
        key={line.key}
        index={i}
        line={line}
        showTs={showTs}
        numbered={!log.earlier}
        needle={byLine.has(i) ? deferredQuery.length : 0}
        starts={byLine.get(i)}
        activeStart={active?.line === i ? active.start : -1}
      />,
    );
  });

  return (
    <div className="overflow-hidden rounded-lg bg-white shadow-sm ring-1 ring-slate-200 dark:bg-slate-900 dark:ring-slate-800">
      <div className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-800">
        <h2 className="mr-auto text-sm font-semibold">Log</h2>
        <form
          role="search"
          className="flex items-center gap-1"
          onSubmit={(e) => {
            e.preventDefault();
            goTo(1);
          }}
        >
          <label htmlFor="log-search" className="sr-only">
            Search the log
          </label>
          <Input
            id="log-search"
            type="search"
            placeholder="Search log"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && e.shiftKey) {
                e.preventDefault();
                goTo(-1);
              } else if (e.key === 'Escape' && query) {
                e.preventDefault();
                setQuery('');
              }
            }}
            className="w-36! py-1! sm:w-44!"
          />
          <span id="log-search-count" className="min-w-12 text-center text-xs tabular-nums text-slate-500 dark:text-slate-400" aria-live="polite">
            {deferredQuery ? (matches.length ? `${Math.min(current, matches.length - 1) + 1} of ${matches.length}` : 'no match') : ''}
          </span>
          <Button size="sm" variant="ghost" aria-label="Previous match" disabled={matches.length === 0} onClick={() => goTo(-1)}>
            ↑
          </Button>
          <Button size="sm" variant="ghost" aria-label="Next match" disabled={matches.length === 0} onClick={() => goTo(1)}>
            ↓
          </Button>
        </form>
        <label className="flex items-center gap-1.5 text-xs text-slate-600 dark:text-slate-300">
          <input type="checkbox" checked={showTs} onChange={(e) => setShowTs(e.target.checked)} className="rounded" />
          Timestamps
        </label>
        <Button
          size="sm"
          variant={follow ? 'primary' : 'secondary'}
          aria-pressed={follow}
          onClick={() => {
            setFollow(true);
            setQuery('');
          }}
          title={follow ? 'Following the newest line' : 'Jump to the newest line and keep it in view'}
        >
          {follow ? 'Following' : 'Follow'}
        </Button>
        <a
          href={downloadUrl}
          download
          className="inline-flex items-center rounded-md px-2.5 py-1 text-xs font-medium text-slate-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 dark:text-slate-200 dark:ring-slate-700 dark:hover:bg-slate-800"
        >
          Download
        </a>
      </div>
      {(dropped > 0 || log.earlier) && (
        <p className="border-b border-amber-200 bg-amber-50 px-3 py-1.5 text-xs text-amber-900 dark:border-amber-900 dark:bg-amber-950/50 dark:text-amber-200">
          {log.earlier
            ? `Showing the newest ${log.lines.length.toLocaleString()} lines of a long log; search covers these.`
            : `Showing the last ${MAX_LINES.toLocaleString()} of ${log.total.toLocaleString()} lines; search covers these.`}{' '}
          <a href={downloadUrl} download className="font-medium underline">
            Download the full log
          </a>
          {hiddenRows > 0 && (
            <span className="block">
              “{deferredQuery}” also appears earlier in the log, in lines not shown here.
            </span>
          )}
        </p>
      )}
      <div className="dark">
        <div
          ref={pane}
          onScroll={onScroll}
          role="log"
          aria-label="Run log"
          aria-live="off"
          tabIndex={0}
          className="max-h-[70vh] min-h-40 overflow-auto bg-slate-950 py-2 font-mono text-xs leading-5 text-slate-200"
        >
          {rows}
          <LogFooter log={log} running={running} />
        </div>
      </div>
    </div>
  );
}

function LogFooter({ log, running }: { log: RunLogState; running: boolean }) {
  let text: string | null = null;
  if (log.phase === 'loading') text = 'Loading the log…';
  else if (log.phase === 'error') text = `The log could not be loaded: ${log.error instanceof Error ? log.error.message : String(log.error)}`;
  else if (log.phase === 'live' && !log.connected) text = 'Connecting to the live log…';
  else if (log.phase === 'live' || running) text = log.lines.length === 0 ? 'Waiting for output…' : null;
  else if (log.lines.length === 0) text = 'This run printed nothing.';
  if (log.phase === 'live' && log.connected && log.lines.length > 0) {
    return (
      <div className="flex items-center gap-2 px-3 pt-1 text-slate-500">
        <span className="hr-pulse h-1.5 w-1.5 rounded-full bg-blue-400" aria-hidden />
        live
      </div>
    );
  }
  if (!text) return null;
  if (log.phase === 'error') {
    return (
      <div role="alert" className="flex flex-wrap items-center gap-3 px-3 py-1 text-red-300">
        {text}
        <button type="button" onClick={log.retry} className="rounded px-2 py-0.5 font-sans text-xs font-medium text-slate-100 ring-1 ring-slate-600 hover:bg-slate-800">
          Try again
        </button>
      </div>
    );
  }
  return <div className="px-3 py-1 text-slate-500">{text}</div>;
}

function Divider({ label }: { label: string }) {
  return (
    <div role="separator" aria-label={label} className="mt-2 flex items-center gap-2 px-3 py-1 text-[11px] font-semibold uppercase tracking-wide text-indigo-300 first:mt-0">
      <span aria-hidden>▸</span>
      {label}
      <span className="h-px flex-1 bg-slate-800" aria-hidden />
    </div>
  );
}

const LogLineView = memo(function LogLineView({
  line,
  index,
  showTs,
  numbered,
  needle,
  starts,
  activeStart,
}: {
  line: LogLine;
  index: number;
  showTs: boolean;
  /** Off when the log was read from its end: the numbers of its lines are not known. */
  numbered: boolean;
  needle: number;
  starts: number[] | undefined;
  activeStart: number;
}) {
  const err = line.stream === 'stderr';
  const sys = line.stream === 'system';
  return (
    <div
      data-line-index={index}
      data-stream={line.stream}
      className={`flex gap-3 px-3 hover:bg-white/5 ${err ? 'border-l-2 border-red-500 bg-red-950/40 pl-2.5' : ''}`}
    >
      {numbered && (
        <span className="w-10 shrink-0 select-none text-right text-slate-600" aria-hidden>
          {line.no}
        </span>
      )}
      {showTs && (
        <time dateTime={line.at} className="shrink-0 select-none text-slate-500">
          {formatClock(line.at)}
        </time>
      )}
      <span className={`w-6 shrink-0 select-none text-[10px] font-semibold uppercase leading-5 ${err ? 'text-red-300' : 'text-slate-600'}`}>
        {err ? 'err' : sys ? '›' : ''}
        {err && <span className="sr-only"> stderr:</span>}
      </span>
      <span className={`min-w-0 flex-1 whitespace-pre-wrap break-words ${err ? 'text-red-100' : sys ? 'italic text-slate-400' : ''}`}>
        {needle > 0 && starts ? highlight(line.segments, starts, needle, activeStart) : line.segments.map((s, i) => <span key={i} {...styleProps(s.style)}>{s.text}</span>)}
        {line.text === '' && ' '}
      </span>
    </div>
  );
});

function formatClock(iso: string): string {
  const d = new Date(iso);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** Segments with every match wrapped in <mark>, the current one stronger. */
function highlight(segments: AnsiSegment[], starts: number[], length: number, activeStart: number): ReactNode[] {
  const out: ReactNode[] = [];
  let offset = 0;
  segments.forEach((seg, si) => {
    const segEnd = offset + seg.text.length;
    let pos = offset;
    const parts: ReactNode[] = [];
    for (const start of starts) {
      const end = start + length;
      if (end <= pos || start >= segEnd) continue;
      const a = Math.max(start, pos);
      const b = Math.min(end, segEnd);
      if (a > pos) parts.push(seg.text.slice(pos - offset, a - offset));
      parts.push(
        <mark key={`${si}-${a}`} data-current={start === activeStart || undefined} className={start === activeStart ? 'rounded-sm bg-amber-300 text-slate-950' : 'rounded-sm bg-amber-700/70 text-inherit'}>
          {seg.text.slice(a - offset, b - offset)}
        </mark>,
      );
      pos = b;
    }
    if (pos < segEnd) parts.push(seg.text.slice(pos - offset));
    out.push(
      <span key={si} {...styleProps(seg.style)}>
        {parts}
      </span>,
    );
    offset = segEnd;
  });
  return out;
}
