import { HostrunError, type ErrorCode, type ErrorDetail } from '../core/errors.ts';

// The one request path of the client: every call, JSON or text or a Server-Sent-Events
// stream, goes through `send`, which adds the headers (token, project) and turns every way a
// request can fail into a HostrunError with a message meant for a person.

export interface TransportOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8080 (no trailing /api). */
  url: string;
  /** API token, sent as `Authorization: Bearer ...`. */
  token?: string | undefined;
  /** Project slug, sent as `X-Hostrun-Project`; the server's default project when unset. */
  project?: string | undefined;
  /** Per-request timeout for ordinary calls (streams have none); default 30 s. */
  timeoutMs?: number;
  /** A fetch to use instead of the global one (tests hand in a Hono app's `fetch`). */
  fetch?: (request: Request) => Response | Promise<Response>;
  /** Says where a token comes from, appended to 401 messages (the CLI names HOSTRUN_TOKEN). */
  tokenHint?: { present: string; missing: string };
}

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

const ERROR_CODES: readonly ErrorCode[] = [
  'invalid_spec', 'invalid_input', 'invalid_request', 'not_found', 'conflict', 'unauthorized',
  'forbidden', 'rate_limited', 'unsupported', 'database', 'unavailable', 'internal',
];
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);
const DEFAULT_TIMEOUT_MS = 30_000;

export class Transport {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly project: string | undefined;
  private readonly timeoutMs: number;
  private readonly tokenHint: TransportOptions['tokenHint'];
  private readonly fetchImpl: (request: Request) => Response | Promise<Response>;

  constructor(options: TransportOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.token = options.token || undefined;
    this.project = options.project || undefined;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.tokenHint = options.tokenHint;
    this.fetchImpl = options.fetch ?? ((request) => fetch(request));
  }

  /** A JSON request; the parsed body, or the API's error as a HostrunError. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, { body, accept: 'application/json' });
    return (await this.readJson(res)) as T;
  }

  /** A request whose answer is text (CSV exports); errors still arrive as JSON. */
  async text(method: string, path: string): Promise<{ body: string; headers: Headers }> {
    const res = await this.send(method, path, { accept: 'text/*' });
    if (!res.ok) await this.readJson(res);
    return { body: await res.text(), headers: res.headers };
  }

  /** Reads a Server-Sent-Events stream until the server ends it (or the signal aborts). */
  async *events(path: string, options: { lastEventId?: string; signal?: AbortSignal } = {}): AsyncGenerator<SseEvent> {
    const res = await this.send('GET', path, {
      accept: 'text/event-stream',
      stream: true,
      ...(options.lastEventId ? { headers: { 'last-event-id': options.lastEventId } } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!res.ok) await this.readJson(res); // throws the server's error
    if (!res.body) return;
    try {
      yield* parseSse(res.body.pipeThrough(new TextDecoderStream()));
    } catch (err) {
      // The connection broke mid-stream (server restarting): callers may resume from the last id.
      throw err instanceof HostrunError ? err : this.transportError(err);
    }
  }

  private async send(
    method: string,
    path: string,
    opts: { body?: unknown; accept: string; stream?: boolean; headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<Response> {
    let url: URL;
    try {
      url = new URL(this.baseUrl + path);
    } catch {
      throw new HostrunError('invalid_request', `not a valid server URL: ${this.baseUrl}`);
    }
    const headers: Record<string, string> = { accept: opts.accept, ...opts.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.project) headers['x-hostrun-project'] = this.project;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    // Streams live as long as the run does; only ordinary calls get a deadline.
    const signal = opts.signal ?? (opts.stream ? undefined : AbortSignal.timeout(this.timeoutMs));
    try {
      return await this.fetchImpl(
        new Request(url, {
          method,
          headers,
          ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
          ...(signal ? { signal } : {}),
        }),
      );
    } catch (err) {
      throw this.transportError(err);
    }
  }

  transportError(err: unknown): HostrunError {
    const e = err as { name?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') {
      return new HostrunError('unavailable', `the Hostrun server at ${this.baseUrl} did not answer within ${this.timeoutMs / 1000}s`, { cause: err });
    }
    if (e.name === 'AbortError') return new HostrunError('unavailable', 'request aborted', { cause: err });
    const code = e.cause?.code ?? '';
    const why = UNREACHABLE.has(code) ? '' : ` (${code || e.cause?.message || (err as Error).message})`;
    return new HostrunError(
      'unavailable',
      `cannot reach the Hostrun server at ${this.baseUrl}${why}: start it with \`npm start\` (or \`hostrun start\`), or set HOSTRUN_URL`,
      { cause: err },
    );
  }

  /** An error in the API's shape (`{ error: { code, message, details } }`) as a HostrunError. */
  errorFromBody(status: number, body: unknown): HostrunError {
    const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
    const code = ERROR_CODES.includes(error?.code as ErrorCode) ? (error!.code as ErrorCode) : status >= 500 ? 'internal' : 'invalid_request';
    let message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
    if (code === 'unauthorized' && this.tokenHint) message += this.token ? this.tokenHint.present : this.tokenHint.missing;
    const details = Array.isArray(error?.details) ? (error.details as ErrorDetail[]) : [];
    return new HostrunError(code, message, { details });
  }

  private async readJson(res: Response): Promise<unknown> {
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new HostrunError('unavailable', `${this.baseUrl} answered HTTP ${res.status} with something that is not the Hostrun API`);
    }
    if (res.ok) return body;
    throw this.errorFromBody(res.status, body);
  }
}

/** The text/event-stream format: fields until a blank line, `data` lines joined with newlines. */
export async function* parseSse(text: ReadableStream<string>): AsyncGenerator<SseEvent> {
  let buffer = '';
  let event = '';
  let id: string | undefined;
  let data: string[] = [];
  for await (const chunk of text) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.search(/\r?\n/)) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(buffer[nl] === '\r' ? nl + 2 : nl + 1);
      if (line === '') {
        if (data.length > 0 || event) yield { event: event || 'message', ...(id === undefined ? {} : { id }), data: data.join('\n') };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id') id = value;
    }
  }
}
