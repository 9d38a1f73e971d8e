import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from '../log.js';
import { decodeJson } from '../messaging/nats.js';
import { eventsOf, type DomainEvent } from '../protocol/events.js';
import type { LiveQueries, VersionedMessage } from './live-queries.js';

type LiveEventType = 'message.created' | 'message.updated';

export interface LiveEvent extends VersionedMessage {
  type: LiveEventType;
}

/** What a feed hands its events to (a stream being replayed buffers them, a live one writes them). */
export interface FeedListener {
  onEvent(event: LiveEvent): void;
}

/** Rows asked from MySQL at once when filling a gap or replaying. */
export const FILL_PAGE = 500;
/** Edits whose version the feed remembers (to drop an older edit arriving after a newer state). */
const VERSIONS_KEPT = 10_000;

export interface FeedCounters {
  /** Messages read from MySQL to fill a gap of the live subject (missed, late or out of order). */
  filled: Tally;
}

/** A counter incremented where the counting happens (a prom-client Counter, handed in by src/roles/api.ts). */
export interface Tally {
  inc(value?: number): void;
}

/**
 * The live events of one chat in one api process, shared by every stream of that chat there: one core NATS
 * subscription to `<ns>.live.chat.<token>.<number>`, turned into a gapless sequence of creations in number order
 * (with the edits in between). The subject is at most once and, across a change of owner, not ordered: a
 * creation above the next expected number, or an edit of a message not yet delivered, is preceded by the
 * missing messages read from MySQL (they are committed before their events are published); duplicates and
 * stale edits are dropped. A lost tail (no later event to reveal the gap) is found by the sweep: a feed that
 * heard nothing for a heartbeat reads what follows its last number.
 * Everything runs on one queue, so listeners see a single order.
 */
export class ChatFeed {
  /** Highest number delivered in order; the feed's listeners have seen every creation up to it. */
  high = 0;
  readonly listeners = new Set<FeedListener>();
  readonly ready: Promise<void>;
  private sub?: Subscription;
  private queue: Promise<void> = Promise.resolve();
  private heard = false;
  private closed = false;
  private readonly versions = new Map<number, number>();

  constructor(
    private readonly nc: NatsConnection,
    readonly subject: string,
    readonly chatId: number,
    private readonly queries: LiveQueries,
    private readonly counters: FeedCounters,
    private readonly log: Logger,
  ) {
    this.ready = this.start();
    this.ready.catch(() => undefined);
  }

  private async start(): Promise<void> {
    // subscribed (and the server knows it) before the starting point is read: nothing falls between
    this.sub = this.nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err || this.closed) return;
        let events: DomainEvent[];
        try {
          events = eventsOf(decodeJson(msg.data));
        } catch {
          return;
        }
        this.heard = true;
        this.enqueue(() => this.apply(events));
      },
    });
    await this.nc.flush();
    this.high = await this.queries.lastNumber(this.chatId);
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((err: unknown) => {
      // MySQL down while filling: what was missed is read again at the next event or sweep
      this.log.warn({ err, chat_id: this.chatId }, 'live feed could not fill from MySQL');
    });
  }

  private async apply(events: readonly DomainEvent[]): Promise<void> {
    await this.ready;
    // a batch holds one chat's events in commit order; creations are sorted so that a reordered batch fills no gap needlessly
    const created = events.filter((e) => e.type === 'MessageCreated').sort((a, b) => a.number - b.number);
    const updated = events.filter((e) => e.type === 'MessageUpdated');
    for (const event of [...created, ...updated]) {
      if (this.closed) return;
      const message = { number: event.number, body: event.body, created_at: event.created_at, updated_at: event.updated_at };
      if (event.type === 'MessageCreated') {
        if (event.number <= this.high) continue;
        if (event.number > this.high + 1) await this.fill(event.number - 1);
        if (event.number !== this.high + 1) continue; // the fill read it already
        this.emit({ type: 'message.created', message, version: event.version });
      } else {
        if (event.number > this.high) await this.fill(event.number); // the creation first (its body is the current one)
        if (event.number > this.high) continue;
        if ((this.versions.get(event.number) ?? 0) >= event.version) continue;
        this.emit({ type: 'message.updated', message, version: event.version });
      }
    }
  }

  /** Reads the creations after `high` up to `upTo` from MySQL and delivers them. */
  private async fill(upTo: number): Promise<void> {
    while (this.high < upTo && !this.closed) {
      const rows = await this.queries.created(this.chatId, this.high, Math.min(FILL_PAGE, upTo - this.high));
      for (const row of rows) {
        if (row.message.number !== this.high + 1) return;
        this.counters.filled.inc();
        this.emit({ type: 'message.created', ...row });
      }
      if (rows.length < Math.min(FILL_PAGE, upTo - this.high)) return;
    }
  }

  private emit(event: LiveEvent): void {
    if (event.type === 'message.created') this.high = event.message.number;
    this.versions.delete(event.message.number);
    this.versions.set(event.message.number, event.version);
    if (this.versions.size > VERSIONS_KEPT) this.versions.delete(this.versions.keys().next().value!);
    for (const listener of this.listeners) listener.onEvent(event);
  }

  /** A heartbeat: when nothing was heard since the last one, read what may follow `high` (a lost tail). */
  sweep(): void {
    if (this.heard) {
      this.heard = false;
      return;
    }
    this.enqueue(async () => {
      await this.ready;
      await this.fill(Number.MAX_SAFE_INTEGER);
    });
  }

  close(): void {
    this.closed = true;
    this.sub?.unsubscribe();
  }
}
