import type { NatsConnection } from 'nats';
import { TooManyRequestsError, UnavailableError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { Names } from '../protocol/subjects.js';
import { ChatFeed, FILL_PAGE, type FeedListener, type LiveEvent, type Tally } from './chat-feed.js';
import { formatCursor, type Cursor } from './cursor.js';
import type { LiveQueries } from './live-queries.js';

/** Where a stream writes (an SSE response): each call returns false once the client is not keeping up. */
export interface LiveSink {
  /** One event with its id; false: the client's buffer is over the bound. */
  send(event: LiveEvent, id: string): boolean;
  /** Resolves when what was written is flushed to the socket (replay backpressure). */
  drained(): Promise<void>;
  heartbeat(): void;
  /** Ends the response (the client reconnects, with Last-Event-ID); resolves once the connection closed. */
  end(): Promise<void>;
}

export interface LiveHubOptions {
  nc: NatsConnection;
  names: Names;
  queries: LiveQueries;
  log: Logger;
  /** LIVE_MAX_STREAMS: streams open at once in this process (503 beyond). */
  maxStreams: number;
  /** LIVE_MAX_STREAMS_PER_APPLICATION: streams of one application open at once in this process (429 beyond). */
  maxStreamsPerApplication: number;
  /** LIVE_HEARTBEAT_MS: heartbeat comment period, and the sweep of a quiet feed. */
  heartbeatMs: number;
  counters: LiveCounters;
}

/** Events a stream holds while it replays from MySQL; past it the stream ends (the client resumes). */
const REPLAY_BUFFER_MAX = 20_000;

/** What the live streams count, incremented where it happens (the api role hands in prom-client counters). */
export interface LiveCounters {
  opened: Tally;
  eventsSent: Tally;
  replayed: Tally;
  filled: Tally;
  rejectedProcess: Tally;
  rejectedApplication: Tally;
  slowClosed: Tally;
}

/**
 * The live streams of one api process. Streams of the same chat share one ChatFeed (one NATS subscription per
 * chat and process, whatever the number of clients); a stream replays what its client missed from MySQL, then
 * takes the feed's events, without a gap or a duplicate. Bounds: LIVE_MAX_STREAMS per process (503) and
 * LIVE_MAX_STREAMS_PER_APPLICATION per application (429), both with Retry-After; a client that does not read
 * is cut off once its socket buffer passes `maxBufferBytes` of the sink. `close()` ends every stream (shutdown:
 * clients reconnect to another process).
 */
export class LiveHub {
  private readonly feeds = new Map<string, ChatFeed>();
  private readonly perApplication = new Map<string, number>();
  private readonly streams = new Set<LiveStream>();
  private reserved = 0;
  private closing = false;
  private readonly timer: NodeJS.Timeout;
  readonly counters: LiveCounters;

  constructor(private readonly opts: LiveHubOptions) {
    this.counters = opts.counters;
    this.timer = setInterval(() => this.tick(), opts.heartbeatMs);
    this.timer.unref();
  }

  get openStreams(): number {
    return this.reserved;
  }

  get watchedChats(): number {
    return this.feeds.size;
  }

  /**
   * Takes a slot (or throws 503/429) and makes sure the chat's feed runs; the stream starts with `start(sink)`.
   * `chatId` comes from the caller's lookup (which answered 404 for an unknown application or chat).
   */
  async open(token: string, chatNumber: number, chatId: number, cursor: Cursor | undefined): Promise<LiveStream> {
    if (this.closing) throw new UnavailableError('this process is shutting down; reconnect', 1);
    if (this.reserved >= this.opts.maxStreams) {
      this.counters.rejectedProcess.inc();
      throw new UnavailableError(`this process serves its maximum of ${this.opts.maxStreams} live streams (LIVE_MAX_STREAMS); retry later`, 5);
    }
    const ofApplication = this.perApplication.get(token) ?? 0;
    if (ofApplication >= this.opts.maxStreamsPerApplication) {
      this.counters.rejectedApplication.inc();
      throw new TooManyRequestsError(`this application has its maximum of ${this.opts.maxStreamsPerApplication} live streams open on this process (LIVE_MAX_STREAMS_PER_APPLICATION); close one or retry later`, 5);
    }
    this.reserved += 1;
    this.perApplication.set(token, ofApplication + 1);
    const key = `${token}.${chatNumber}`;
    let feed = this.feeds.get(key);
    if (!feed) {
      feed = new ChatFeed(this.opts.nc, this.opts.names.liveChatSubject(token, chatNumber), chatId, this.opts.queries, this.counters, this.opts.log);
      this.feeds.set(key, feed);
    }
    const stream = new LiveStream(this, key, token, feed, cursor, this.opts.queries);
    this.streams.add(stream);
    try {
      await feed.ready;
    } catch (err) {
      this.release(stream);
      throw UnavailableError.dependency('NATS or MySQL', err);
    }
    if (this.closing) {
      this.release(stream);
      throw new UnavailableError('this process is shutting down; reconnect', 1);
    }
    this.counters.opened.inc();
    return stream;
  }

  /** Gives back a stream's slot; the last stream of a chat closes its feed. */
  release(stream: LiveStream): void {
    if (stream.released) return;
    stream.released = true;
    this.streams.delete(stream);
    this.reserved -= 1;
    const left = (this.perApplication.get(stream.token) ?? 1) - 1;
    if (left > 0) this.perApplication.set(stream.token, left);
    else this.perApplication.delete(stream.token);
    const feed = this.feeds.get(stream.key);
    if (feed === stream.feed && feed.listeners.size === 0 && ![...this.streams].some((s) => s.feed === feed)) {
      feed.close();
      this.feeds.delete(stream.key);
    }
  }

  private tick(): void {
    for (const stream of this.streams) stream.heartbeat();
    for (const feed of this.feeds.values()) feed.sweep();
  }

  /** Ends every stream and stops taking new ones (graceful shutdown: clients reconnect elsewhere). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    const ended = [...this.streams].map((stream) => stream.close());
    for (const feed of this.feeds.values()) feed.close();
    this.feeds.clear();
    // the HTTP server closes next: let the ended responses reach their clients first (bounded)
    await Promise.race([Promise.all(ended), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }
}

/** One client's stream: replay from MySQL, then the feed's events. */
export class LiveStream implements FeedListener {
  released = false;
  private sink?: LiveSink;
  private live = false;
  private buffer: LiveEvent[] = [];
  /** Highest number and version delivered (the resume cursor of the next event). */
  private number = 0;
  private version = 0;

  constructor(
    private readonly hub: LiveHub,
    readonly key: string,
    readonly token: string,
    readonly feed: ChatFeed,
    private readonly cursor: Cursor | undefined,
    private readonly queries: LiveQueries,
  ) {}

  /** Replays what the cursor missed, then goes live. Resolves once live (or closed). */
  async start(sink: LiveSink): Promise<void> {
    this.sink = sink;
    // from here on the feed's events are buffered; `until` is where the feed stands at this very moment
    this.feed.listeners.add(this);
    const until = this.feed.high;
    this.number = this.cursor?.number ?? until;
    this.version = this.cursor?.version ?? 0;
    try {
      if (this.cursor?.version !== undefined) await this.replayEdits(Math.min(this.cursor.number, until), this.cursor.version);
      while (this.number < until && !this.released) {
        const rows = await this.queries.created(this.feed.chatId, this.number, Math.min(FILL_PAGE, until - this.number));
        if (rows.length === 0) break;
        for (const row of rows) await this.deliverReplayed({ type: 'message.created', ...row });
      }
    } catch {
      // MySQL down during the replay: end, the client resumes from what it got
      void this.close();
      return;
    }
    const buffered = this.buffer;
    this.buffer = [];
    this.live = true;
    for (const event of buffered) this.onEvent(event);
  }

  private async replayEdits(upTo: number, afterVersion: number): Promise<void> {
    let version = afterVersion;
    for (;;) {
      const rows = await this.queries.editedSince(this.feed.chatId, upTo, version, FILL_PAGE);
      for (const row of rows) {
        version = row.version;
        await this.deliverReplayed({ type: 'message.updated', ...row });
      }
      if (rows.length < FILL_PAGE || this.released) return;
    }
  }

  private async deliverReplayed(event: LiveEvent): Promise<void> {
    if (this.released) return;
    this.hub.counters.replayed.inc();
    if (!this.write(event)) await this.sink!.drained();
    if (this.buffer.length > REPLAY_BUFFER_MAX) void this.close();
  }

  /** A feed event: buffered during the replay, else written when it is the next one (creations) or known (edits). */
  onEvent(event: LiveEvent): void {
    if (this.released) return;
    if (!this.live) {
      this.buffer.push(event);
      return;
    }
    if (event.type === 'message.created' && event.message.number > this.number + 1) {
      // cannot happen (the feed is gapless and the replay reached it); should it, end: the resume fills from MySQL
      void this.close();
      return;
    }
    if (event.type === 'message.created' ? event.message.number !== this.number + 1 : event.message.number > this.number) return;
    if (!this.write(event)) {
      this.hub.counters.slowClosed.inc();
      void this.close();
    }
  }

  private write(event: LiveEvent): boolean {
    if (event.type === 'message.created') this.number = event.message.number;
    this.version = Math.max(this.version, event.version);
    this.hub.counters.eventsSent.inc();
    return this.sink!.send(event, formatCursor({ number: this.number, version: this.version }));
  }

  heartbeat(): void {
    if (!this.released) this.sink?.heartbeat();
  }

  /** Ends the stream (client gone, slow, or shutdown) and gives its slot back. */
  close(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.feed.listeners.delete(this);
    this.hub.release(this);
    return this.sink?.end() ?? Promise.resolve();
  }
}
