import { apiHeaders, apiUrl, markReachable, type RequestOptions } from './client.ts';

// Server-Sent Events read with fetch rather than EventSource: EventSource cannot send the
// project header, and fetch lets us resume with Last-Event-ID ourselves. On a dropped
// connection it reconnects after a pause and resumes after the last event it saw, so a
// live view misses nothing.

export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

export interface SseOptions {
  query?: RequestOptions['query'];
  onEvent: (e: SseEvent) => void;
  /** Connected (true) or waiting to reconnect (false). */
  onStatus?: (connected: boolean) => void;
  /**
   * Given: the stream ending on its own (a finished run's logs) is final, and this is called.
   * Not given: an ended stream (a restarting server) is resumed like a dropped one.
   */
  onEnd?: () => void;
  lastEventId?: string | null;
}

export function subscribe(path: string, opts: SseOptions): () => void {
  const controller = new AbortController();
  let lastId = opts.lastEventId ?? null;
  let stopped = false;

  const run = async () => {
    let delay = 500;
    while (!stopped) {
      try {
        const headers = apiHeaders('GET');
        headers.accept = 'text/event-stream';
        if (lastId) headers['last-event-id'] = lastId;
        const res = await fetch(apiUrl(path, opts.query), { headers, credentials: 'same-origin', signal: controller.signal });
        markReachable(res.status < 502 || res.status > 504);
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        opts.onStatus?.(true);
        delay = 500;
        const ended = await readStream(res.body, (e) => {
          if (e.id) lastId = e.id;
          opts.onEvent(e);
        });
        if (ended === 'done' && opts.onEnd) {
          opts.onEnd();
          return;
        }
      } catch (err) {
        if (stopped || (err as Error).name === 'AbortError') return;
        if (err instanceof TypeError) markReachable(false); // fetch's "no answer"
      }
      opts.onStatus?.(false);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}

/** Parses the text/event-stream format; 'done' when the server closed the stream itself. */
async function readStream(body: ReadableStream<Uint8Array>, onEvent: (e: SseEvent) => void): Promise<'done'> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let id: string | null = null;
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return 'done';
    buffer += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length > 0) onEvent({ event, id, data: data.join('\n') });
        event = 'message';
        id = null;
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = val;
        else if (field === 'data') data.push(val);
        else if (field === 'id') id = val;
      }
    }
  }
}
