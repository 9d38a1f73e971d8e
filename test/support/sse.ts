/** A Server-Sent Events client for tests: fetch + a line parser (no dependency). */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** Every event received so far, in order. */
  events: SseEvent[];
  /** Comment lines received (heartbeats). */
  comments: number;
  /** Resolves when the server ended the stream (or it failed). */
  ended: Promise<void>;
  /** Waits until `predicate(events)` holds. */
  until(what: string, predicate: (events: SseEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream & { body?: string }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (res.status !== 200 || !res.body) {
    return { status: res.status, headers: res.headers, events: [], comments: 0, ended: Promise.resolve(), until: async () => undefined, close: () => undefined, body: await res.text() };
  }
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  const stream: SseStream = {
    status: res.status, headers: res.headers, events, comments: 0,
    ended: Promise.resolve(),
    until: (what, predicate, timeoutMs = 60_000) => new Promise<void>((resolve, reject) => {
      if (predicate(events)) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what} (${events.length} events)`));
      }, timeoutMs);
      const check = (): void => {
        if (!predicate(events)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    }),
    close: () => abort.abort(),
  };
  stream.ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    let current: Partial<SseEvent> & { data?: string } = {};
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (current.data !== undefined) events.push({ event: current.event ?? 'message', data: current.data, ...(current.id !== undefined ? { id: current.id } : {}) });
            current = {};
            for (const w of [...waiters]) w();
            continue;
          }
          if (line.startsWith(':')) {
            stream.comments += 1;
            continue;
          }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') current.data = current.data === undefined ? value : `${current.data}\n${value}`;
          else if (field === 'event') current.event = value;
          else if (field === 'id') current.id = value;
        }
      }
    } catch {
      // aborted or reset
    }
    for (const w of [...waiters]) w();
  })();
  return stream;
}
