import pg from 'pg';

// One dedicated connection that LISTENs on a few channels and survives losing the database:
// it reconnects with backoff and calls onReconnect, so callers re-check state they may have
// missed (a notification sent while we were away is lost; the poll fallback covers that too).

export interface Listener {
  close(): Promise<void>;
}

export interface ListenerOptions {
  url: string;
  channels: string[];
  onNotify: (channel: string, payload: string) => void;
  onReconnect?: () => void;
  onError?: (err: Error) => void;
}

export async function listen(options: ListenerOptions): Promise<Listener> {
  let client: pg.Client | null = null;
  let closed = false;
  let retryMs = 100;
  let timer: NodeJS.Timeout | null = null;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: options.url, application_name: 'hostrun-listener' });
    c.on('notification', (n) => options.onNotify(n.channel, n.payload ?? ''));
    c.on('error', (err) => {
      options.onError?.(err);
      reconnectSoon(c);
    });
    c.on('end', () => reconnectSoon(c));
    await c.connect();
    for (const ch of options.channels) await c.query(`LISTEN ${pg.escapeIdentifier(ch)}`);
    client = c;
    retryMs = 100;
  };

  const reconnectSoon = (dead: pg.Client): void => {
    if (closed || client !== dead || timer) return;
    client = null;
    dead.end().catch(() => {});
    timer = setTimeout(async () => {
      timer = null;
      try {
        await connect();
        options.onReconnect?.();
      } catch (err) {
        options.onError?.(err as Error);
        retryMs = Math.min(retryMs * 2, 5000);
        client = dead; // let reconnectSoon schedule the next try
        reconnectSoon(dead);
      }
    }, retryMs);
    timer.unref();
  };

  await connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
