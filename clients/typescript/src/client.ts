import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './schema.js';

type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never;

/** The resources, as the OpenAPI document describes them (src/schema.ts is generated from it). */
export type Application = JsonOf<paths['/applications/{token}']['get']['responses'][200]>;
export type Chat = JsonOf<paths['/applications/{token}/chats/{number}']['get']['responses'][200]>;
export type Message = JsonOf<paths['/applications/{token}/chats/{number}/messages/{mnumber}']['get']['responses'][200]>;
/** Every error the service answers: `{ error: code, message }` (docs/API.md "Errors"). */
export type ErrorBody = JsonOf<paths['/applications/{token}']['get']['responses'][404]>;

export interface ChatClientOptions {
  /** The service, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** The operator credential (ADMIN_API_KEY), for `applications()`, the listing of every application. */
  adminApiKey?: string;
  /** Time allowed to one attempt; past it the attempt is abandoned and retried (default 10 s). */
  timeoutMs?: number;
  /** Attempts per call, the first included (default 5). */
  maxAttempts?: number;
  /** Delay before the first retry when the answer has no Retry-After; doubles at each retry (default 250 ms). */
  retryDelayMs?: number;
  /** Longest delay between two attempts, Retry-After included (default 5 s). */
  maxRetryDelayMs?: number;
  /** A fetch of your own (proxies, instrumentation, tests). */
  fetch?: (request: Request) => Promise<Response>;
  /** Mints the Idempotency-Key of a write (default `crypto.randomUUID()`). */
  newIdempotencyKey?: () => string;
  /** Told before each retry: why (a status, or the error of an attempt without an answer) and how long it waits. */
  onRetry?: (retry: RetryInfo) => void;
}

export interface RetryInfo {
  /** The attempt that failed (1 = the first). */
  attempt: number;
  status?: number;
  error?: unknown;
  /** The key every attempt of this write carries (absent for reads). */
  idempotencyKey?: string;
  delayMs: number;
}

export interface WriteOptions {
  /** Your own key for this write (1–128 characters), e.g. to resume it after a restart; default: a new UUID. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface PageOptions {
  /** Items per request (1–1000); the iterator follows the `Link` header until the last page. */
  limit?: number;
  signal?: AbortSignal;
}

/** One event of a live stream: a message created or edited, and the stream's position after it. */
export interface LiveEvent {
  type: 'message.created' | 'message.updated';
  /** `<number>.<version>`: pass it as `lastEventId` to resume right after this event. */
  id: string;
  message: Message;
}

export interface WatchOptions {
  /** Start after this message number (creations only); default: from the next message created. */
  after?: number;
  /** Resume after this event id (wins over `after`). */
  lastEventId?: string;
  /** Ends the iteration. */
  signal?: AbortSignal;
}

/** Server-Sent Events of a response body: `{ event, id, data }` per event, comments skipped. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; id?: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: { event?: string; id?: string; data?: string } = {};
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (event.data !== undefined) yield { event: event.event ?? 'message', data: event.data, ...(event.id !== undefined ? { id: event.id } : {}) };
        event = {};
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
        else if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
      }
    }
  }
}

/** An error answer of the service, after the retries (if the status allowed them). */
export class ChatApiError extends Error {
  override name = 'ChatApiError';
  constructor(
    readonly status: number,
    /** The stable code (`not_found`, `validation_error`, `idempotency_key_reused`, …). */
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
  ) {
    super(message);
  }
}

/** Statuses after which the same request may be sent again: the service did not act, or will answer the first attempt's outcome. */
const RETRYABLE = new Set([429, 503, 504]);

interface Attempt<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The target of `Link: <…>; rel="next"`, when there is one. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match && /;\s*rel="?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(match[2]!)) return match[1];
  }
  return undefined;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
  if (signal?.aborted) return reject(signal.reason);
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => {
    clearTimeout(timer);
    reject(signal.reason);
  }, { once: true });
});

/**
 * A typed client of the HTTP API (docs/API.md), on `openapi-fetch` over types generated from the service's
 * OpenAPI document.
 *
 * * Creations and updates carry an `Idempotency-Key`, minted per call (or yours), and are retried **with the same
 *   key** on 503, 504, 429 and attempts that time out or get no answer: the service answers the first attempt's
 *   outcome instead of acting twice, so a retried creation never makes a second resource.
 * * Reads are retried on the same conditions (they change nothing).
 * * Lists and search are async iterators that follow the `Link: rel="next"` header page after page.
 * * Waits honour `Retry-After`; other failures are thrown as `ChatApiError` (status, `code`, request id).
 *
 * `api` is the underlying typed `openapi-fetch` client, for anything this class does not wrap.
 */
export class ChatClient {
  readonly api: Client<paths>;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly newKey: () => string;

  constructor(private readonly options: ChatClientOptions) {
    this.api = createClient<paths>({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5000;
    this.newKey = options.newIdempotencyKey ?? (() => crypto.randomUUID());
  }

  // applications

  createApplication(name: string, opts: WriteOptions = {}): Promise<Application> {
    return this.write(opts, (key, signal) => this.api.POST('/applications', { params: { header: { 'idempotency-key': key } }, body: { name }, signal }));
  }

  getApplication(token: string, signal?: AbortSignal): Promise<Application> {
    return this.read(signal, (s) => this.api.GET('/applications/{token}', { params: { path: { token } }, signal: s }));
  }

  renameApplication(token: string, name: string, opts: WriteOptions = {}): Promise<Application> {
    return this.write(opts, (key, signal) => this.api.PATCH('/applications/{token}', { params: { path: { token }, header: { 'idempotency-key': key } }, body: { name }, signal }));
  }

  /** Every application (operators only: needs `adminApiKey`). */
  applications(opts: PageOptions = {}): AsyncGenerator<Application> {
    const headers = this.options.adminApiKey ? { authorization: `Bearer ${this.options.adminApiKey}` } : undefined;
    return this.pages(opts, {}, (query, signal) => this.api.GET('/applications', { params: { query }, ...(headers ? { headers } : {}), signal }));
  }

  // chats

  createChat(token: string, name?: string | null, opts: WriteOptions = {}): Promise<Chat> {
    return this.write(opts, (key, signal) => this.api.POST('/applications/{token}/chats', {
      params: { path: { token }, header: { 'idempotency-key': key } }, body: name === undefined ? {} : { name }, signal,
    }));
  }

  getChat(token: string, number: number, signal?: AbortSignal): Promise<Chat> {
    return this.read(signal, (s) => this.api.GET('/applications/{token}/chats/{number}', { params: { path: { token, number: String(number) } }, signal: s }));
  }

  /** Renames a chat; `null` clears its name. */
  renameChat(token: string, number: number, name: string | null, opts: WriteOptions = {}): Promise<Chat> {
    return this.write(opts, (key, signal) => this.api.PATCH('/applications/{token}/chats/{number}', {
      params: { path: { token, number: String(number) }, header: { 'idempotency-key': key } }, body: { name }, signal,
    }));
  }

  /** The chats of an application, by number. */
  chats(token: string, opts: PageOptions = {}): AsyncGenerator<Chat> {
    return this.pages(opts, {}, (query, signal) => this.api.GET('/applications/{token}/chats', { params: { path: { token }, query }, signal }));
  }

  // messages

  createMessage(token: string, chat: number, body: string, opts: WriteOptions = {}): Promise<Message> {
    return this.write(opts, (key, signal) => this.api.POST('/applications/{token}/chats/{number}/messages', {
      params: { path: { token, number: String(chat) }, header: { 'idempotency-key': key } }, body: { body }, signal,
    }));
  }

  getMessage(token: string, chat: number, number: number, signal?: AbortSignal): Promise<Message> {
    return this.read(signal, (s) => this.api.GET('/applications/{token}/chats/{number}/messages/{mnumber}', {
      params: { path: { token, number: String(chat), mnumber: String(number) } }, signal: s,
    }));
  }

  editMessage(token: string, chat: number, number: number, body: string, opts: WriteOptions = {}): Promise<Message> {
    return this.write(opts, (key, signal) => this.api.PATCH('/applications/{token}/chats/{number}/messages/{mnumber}', {
      params: { path: { token, number: String(chat), mnumber: String(number) }, header: { 'idempotency-key': key } }, body: { body }, signal,
    }));
  }

  /** The messages of a chat, by number. */
  messages(token: string, chat: number, opts: PageOptions = {}): AsyncGenerator<Message> {
    return this.pages(opts, {}, (query, signal) => this.api.GET('/applications/{token}/chats/{number}/messages', {
      params: { path: { token, number: String(chat) }, query }, signal,
    }));
  }

  /** The chat's messages whose body contains `query` (literal, case-insensitive as JavaScript's toLowerCase), by number. */
  search(token: string, chat: number, query: string, opts: PageOptions = {}): AsyncGenerator<Message> {
    return this.pages(opts, { query }, (q, signal) => this.api.GET('/applications/{token}/chats/{number}/messages/search', {
      params: { path: { token, number: String(chat) }, query: { ...q, query: q['query'] ?? query } }, signal,
    }));
  }

  // the mechanics

  /** A write: one Idempotency-Key for every attempt of this call. */
  private write<T>(opts: WriteOptions, attempt: (key: string, signal: AbortSignal) => Promise<Attempt<T>>): Promise<T> {
    const key = opts.idempotencyKey ?? this.newKey();
    return this.send(opts.signal, (signal) => attempt(key, signal), key).then((r) => r.data);
  }

  private read<T>(signal: AbortSignal | undefined, attempt: (signal: AbortSignal) => Promise<Attempt<T>>): Promise<T> {
    return this.send(signal, attempt).then((r) => r.data);
  }

  /** Pages of a list, following `Link: rel="next"` (its query string is the next request's). */
  private async *pages<T>(opts: PageOptions, first: Record<string, string>, page: (query: Record<string, string>, signal: AbortSignal) => Promise<Attempt<T[]>>): AsyncGenerator<T> {
    let query: Record<string, string> = { ...first, ...(opts.limit === undefined ? {} : { limit: String(opts.limit) }) };
    for (;;) {
      const { data, response } = await this.send(opts.signal, (signal) => page(query, signal));
      yield* data;
      const next = nextLink(response.headers.get('link'));
      if (next === undefined) return;
      query = Object.fromEntries(new URL(next, 'http://next.invalid').searchParams);
    }
  }

  /** Sends until a success, an answer that is not worth retrying, or the last attempt. */
  /**
   * The chat's messages as they are created and edited (the live stream, Server-Sent Events), for as long as the
   * loop runs or until `signal` aborts. Creations come in number order, each once; when the stream ends (the
   * service restarts, the connection drops) it reconnects with the last event's id and goes on without a gap or a
   * duplicate (429/503 wait for Retry-After). Other errors (404 unknown chat, 400) end it with a ChatApiError.
   */
  async *watch(token: string, chat: number, opts: WatchOptions = {}): AsyncGenerator<LiveEvent> {
    const fetchImpl = this.options.fetch ?? ((request: Request) => fetch(request));
    const abort = new AbortController();
    const onAbort = (): void => abort.abort(opts.signal?.reason);
    if (opts.signal?.aborted) return;
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let lastId = opts.lastEventId;
    try {
      for (let failures = 0; !abort.signal.aborted; failures++) {
        const url = new URL(`/applications/${encodeURIComponent(token)}/chats/${chat}/messages/stream`, this.options.baseUrl);
        if (lastId === undefined && opts.after !== undefined) url.searchParams.set('after', String(opts.after));
        const headers: Record<string, string> = { accept: 'text/event-stream', ...(lastId !== undefined ? { 'last-event-id': lastId } : {}) };
        let retryAfter = Number.NaN;
        try {
          const response = await fetchImpl(new Request(url, { headers, signal: abort.signal }));
          if (response.ok && response.body) {
            for await (const event of sseEvents(response.body)) {
              if (event.event !== 'message.created' && event.event !== 'message.updated') continue;
              failures = 0;
              if (event.id !== undefined) lastId = event.id;
              yield { type: event.event, id: event.id ?? '', message: JSON.parse(event.data) as Message };
            }
          } else if (!RETRYABLE.has(response.status)) {
            const body = await response.json().catch(() => undefined) as Partial<ErrorBody> | undefined;
            throw new ChatApiError(response.status, typeof body?.error === 'string' ? body.error : `http_${response.status}`, typeof body?.message === 'string' ? body.message : response.statusText, response.headers.get('x-request-id') ?? undefined);
          } else {
            retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
            await response.body?.cancel();
          }
        } catch (err) {
          if (abort.signal.aborted) return;
          if (err instanceof ChatApiError) throw err;
          // no answer or a broken stream: reconnect
        }
        const delayMs = Math.min(this.maxRetryDelayMs, Number.isFinite(retryAfter) ? retryAfter * 1000 : this.retryDelayMs * 2 ** Math.min(failures, 10));
        await sleep(delayMs, abort.signal).catch(() => undefined);
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      abort.abort();
    }
  }

  private async send<T>(signal: AbortSignal | undefined, attempt: (signal: AbortSignal) => Promise<Attempt<T>>, idempotencyKey?: string): Promise<{ data: T; response: Response }> {
    for (let n = 1; ; n++) {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      let result: Attempt<T> | undefined;
      let failure: unknown;
      try {
        result = await attempt(signal ? AbortSignal.any([signal, timeout]) : timeout);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        failure = err; // no answer: timed out, connection refused or reset
      }
      if (result?.response.ok) return { data: result.data as T, response: result.response };
      const status = result?.response.status;
      if ((status !== undefined && !RETRYABLE.has(status)) || n >= this.maxAttempts) {
        if (result) throw this.error(result);
        throw failure;
      }
      const retryAfter = Number(result?.response.headers.get('retry-after') ?? Number.NaN);
      const delayMs = Math.min(this.maxRetryDelayMs, Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : this.retryDelayMs * 2 ** (n - 1));
      this.options.onRetry?.({ attempt: n, ...(status === undefined ? { error: failure } : { status }), ...(idempotencyKey === undefined ? {} : { idempotencyKey }), delayMs });
      await sleep(delayMs, signal);
    }
  }

  private error(result: Attempt<unknown>): ChatApiError {
    const body = result.error as Partial<ErrorBody> | undefined;
    const { status, headers } = result.response;
    return new ChatApiError(status, typeof body?.error === 'string' ? body.error : `http_${status}`, typeof body?.message === 'string' ? body.message : result.response.statusText, headers.get('x-request-id') ?? undefined);
  }
}
