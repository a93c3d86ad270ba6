import { useEffect, useRef, useState } from 'react';
import { subscribe } from '../api/sse.ts';
import { ApiError } from '../api/client.ts';
import { LOG_PAGE, runLogs, runLogsTail, type LogRow } from '../api/runs.ts';
import type { RunStatus } from '../api/types.ts';
import { TERMINAL_STATUSES } from '../api/types.ts';
import { parseAnsi, plainText, type AnsiSegment } from './ansi.ts';

// A run's log as lines, live: the history from GET /runs/:id/logs (paged), then the tail from
// GET /runs/:id/logs/stream (SSE, resumed after the last line seen, so nothing is shown twice
// or missed across a reconnect). Only the last MAX_LINES lines are kept: a log of a million
// lines stays as quick as a short one, and the download has the rest. Lines arriving in a
// burst are applied together, one render per 60 ms at most.

export const MAX_LINES = 5000;
const FLUSH_MS = 60;

export interface LogLine {
  /** Unique across the run: row seq and the line's place in the row. */
  key: string;
  /** 1-based line number in the whole log. */
  no: number;
  seq: number;
  attempt: number;
  stepIdx: number | null;
  stream: LogRow['stream'];
  at: string;
  segments: AnsiSegment[];
  /** Without escape codes: what search looks at. */
  text: string;
}

export interface RunLogState {
  lines: LogLine[];
  /** Lines received in all (the ones not kept included). */
  total: number;
  phase: 'loading' | 'live' | 'ended' | 'error';
  error: unknown;
  /** The stream is connected (false while it reconnects). */
  connected: boolean;
  /** The log was read from its end: lines before the first one shown exist (and their count is not known). */
  earlier: boolean;
  /** After an error: load the log again. */
  retry: () => void;
}

export interface RunLogEvents {
  /** The stream saw the run change status. */
  onStatus?: (status: RunStatus) => void;
  /** The run finished: its final status. */
  onEnd?: (end: { status: RunStatus; exit_code: number | null; error: string | null }) => void;
  /** A line of a step that had shown no output before: its steps may have moved on. */
  onNewStep?: (stepIdx: number) => void;
}

interface RawLine {
  row: LogRow;
  part: number;
  text: string;
}

type Loaded = Omit<RunLogState, 'retry'>;

export function useRunLog(runId: number, events: RunLogEvents = {}): RunLogState {
  const [state, setState] = useState<Loaded>({ lines: [], total: 0, phase: 'loading', error: null, connected: false, earlier: false });
  const [attempt, setAttempt] = useState(0);
  const handlers = useRef(events);
  handlers.current = events;

  useEffect(() => {
    let stopped = false;
    let stopStream: (() => void) | null = null;
    let pending: LogRow[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    let lastSeq = 0;
    let lineNo = 0;
    const seenSteps = new Set<number>();
    setState({ lines: [], total: 0, phase: 'loading', error: null, connected: false, earlier: false });

    const flush = () => {
      timer = null;
      if (stopped || pending.length === 0) return;
      const rows = pending;
      pending = [];
      const raw: RawLine[] = [];
      for (const row of rows) {
        row.text.split('\n').forEach((text, part) => raw.push({ row, part, text }));
      }
      // Lines that would be dropped at once are never parsed.
      const keep = raw.length > MAX_LINES ? raw.slice(raw.length - MAX_LINES) : raw;
      const firstNo = lineNo + (raw.length - keep.length) + 1;
      lineNo += raw.length;
      // Colours carry from one line to the next within a row (one burst of one stream).
      let style = { style: {} };
      let styleRow: LogRow | null = null;
      const fresh: LogLine[] = keep.map((r, i) => {
        if (r.row !== styleRow) {
          style = { style: {} };
          styleRow = r.row;
        }
        const segments = parseAnsi(r.text, style);
        return {
          key: `${r.row.seq}:${r.part}`,
          no: firstNo + i,
          seq: r.row.seq,
          attempt: r.row.attempt,
          stepIdx: r.row.step_idx,
          stream: r.row.stream,
          at: r.row.at,
          segments,
          text: plainText(segments),
        };
      });
      for (const row of rows) {
        if (row.step_idx !== null && !seenSteps.has(row.step_idx)) {
          seenSteps.add(row.step_idx);
          handlers.current.onNewStep?.(row.step_idx);
        }
      }
      const added = raw.length;
      setState((s) => {
        const all = s.lines.length + fresh.length > MAX_LINES ? [...s.lines, ...fresh].slice(-MAX_LINES) : [...s.lines, ...fresh];
        return { ...s, lines: all, total: s.total + added };
      });
    };

    const add = (rows: LogRow[]) => {
      for (const row of rows) {
        if (row.seq <= lastSeq) continue;
        lastSeq = row.seq;
        pending.push(row);
      }
      timer ??= setTimeout(flush, FLUSH_MS);
    };

    const finish = (phase: Loaded['phase'], error: unknown = null) => {
      if (timer) clearTimeout(timer);
      flush();
      if (!stopped) setState((s) => ({ ...s, phase, error, connected: false }));
    };

    const start = async () => {
      let status: RunStatus;
      try {
        // The newest lines first; a long log is not read from its start to show its end.
        const tail = await runLogsTail(runId);
        if (stopped) return;
        add(tail.lines);
        status = tail.status;
        if (tail.earlier) setState((s) => ({ ...s, earlier: true }));
      } catch (err) {
        if (stopped) return;
        if (!(err instanceof ApiError && err.status === 404 && err.message.startsWith('no route'))) {
          finish('error', err);
          return;
        }
        // A server without the tail route: the history page by page from the start.
        try {
          for (;;) {
            const page = await runLogs(runId, lastSeq);
            if (stopped) return;
            add(page.lines);
            status = page.status;
            if (page.lines.length < LOG_PAGE) break;
          }
        } catch (err2) {
          if (!stopped) finish('error', err2);
          return;
        }
      }
      if (TERMINAL_STATUSES.includes(status)) {
        finish('ended');
        return;
      }
      setState((s) => ({ ...s, phase: 'live' }));
      openStream();
    };

    let ended = false;
    const openStream = () => {
      if (stopped) return;
      stopStream = subscribe(`/runs/${runId}/logs/stream`, {
        query: { after: lastSeq },
        onStatus: (connected) => setState((s) => (s.connected === connected ? s : { ...s, connected })),
        onEvent: (e) => {
          let data: unknown;
          try {
            data = JSON.parse(e.data);
          } catch {
            return;
          }
          if (e.event === 'message') add([data as LogRow]);
          else if (e.event === 'status') handlers.current.onStatus?.((data as { status: RunStatus }).status);
          else if (e.event === 'end') {
            ended = true;
            handlers.current.onEnd?.(data as { status: RunStatus; exit_code: number | null; error: string | null });
            finish('ended');
          } else if (e.event === 'error') {
            ended = true;
            const message = (data as { error?: { message?: string } }).error?.message ?? 'the log stream failed';
            finish('error', new Error(message));
          }
        },
        // After `end` the server closes the stream and nothing more will come. Closed without
        // it (a restarting server), the tail is opened again after the last line seen.
        onEnd: () => {
          if (ended || stopped) return;
          setState((s) => ({ ...s, connected: false }));
          setTimeout(openStream, 1000);
        },
      });
    };
    void start();

    return () => {
      stopped = true;
      stopStream?.();
      if (timer) clearTimeout(timer);
    };
  }, [runId, attempt]);

  return { ...state, retry: () => setAttempt((a) => a + 1) };
}
