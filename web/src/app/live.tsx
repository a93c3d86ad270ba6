import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { subscribe } from '../api/sse.ts';
import type { RunStatusEvent } from '../api/types.ts';

// One live connection per signed-in tab: GET /api/v1/events for the selected project. Every
// run status change reaches the listeners (a run page patches its run at once) and, a moment
// later, refetches the lists that show runs, so no page needs a reload or its own poll.

type Listener = (e: RunStatusEvent) => void;

interface Live {
  connected: boolean;
  listen: (l: Listener) => () => void;
}

const LiveContext = createContext<Live>({ connected: false, listen: () => () => {} });

/** Query keys whose data depends on run states: refreshed after run events. */
const RUN_DEPENDENT = new Set(['runs', 'run', 'run-steps', 'jobs', 'job', 'dashboard', 'reports', 'workers']);

export function LiveProvider({ project, children }: { project: string; children: ReactNode }) {
  const queryClient = useQueryClient();
  const listeners = useRef(new Set<Listener>());
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      timer = null;
      void queryClient.invalidateQueries({ predicate: (q) => RUN_DEPENDENT.has(String(q.queryKey[0])) });
    };
    const stop = subscribe('/events', {
      onStatus: setConnected,
      onEvent: (e) => {
        if (e.event !== 'run') return;
        let parsed: RunStatusEvent;
        try {
          parsed = JSON.parse(e.data) as RunStatusEvent;
        } catch {
          return;
        }
        for (const l of listeners.current) l(parsed);
        // Bursts (a fan-out, a busy queue) become one refetch per 250 ms.
        timer ??= setTimeout(refresh, 250);
      },
    });
    return () => {
      stop();
      if (timer) clearTimeout(timer);
      setConnected(false);
    };
  }, [project, queryClient]);

  const value: Live = {
    connected,
    listen: (l) => {
      listeners.current.add(l);
      return () => listeners.current.delete(l);
    },
  };
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): Live {
  return useContext(LiveContext);
}

/** Calls `onEvent` for every run status change in the project while mounted. */
export function useRunEvents(onEvent: Listener): void {
  const { listen } = useLive();
  const ref = useRef(onEvent);
  ref.current = onEvent;
  useEffect(() => listen((e) => ref.current(e)), [listen]);
}
