import { LRUCache } from 'lru-cache';
import type { NatsConnection } from 'nats';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Names } from '../protocol/subjects.js';
import { CounterStore } from '../storage/counter-store.js';
import type { Orm } from '../storage/orm.js';
import { ProjectionRunner, type Delivered, type ProjectionCounters } from './runner.js';

export const COUNTERS = 'counters';

/** The highest chat number per application token and message number per chat seen in a batch. */
interface CounterMaxima {
  chats: Map<string, number>;
  messages: Map<string, { token: string; chat: number; max: number }>;
}

function maxima(batch: readonly Delivered[]): CounterMaxima {
  const chats = new Map<string, number>();
  const messages = new Map<string, { token: string; chat: number; max: number }>();
  for (const { event } of batch) {
    if (event.type === 'ChatCreated') {
      chats.set(event.token, Math.max(chats.get(event.token) ?? 0, event.number));
    } else if (event.type === 'MessageCreated') {
      const key = `${event.token}:${event.chat_number}`;
      const known = messages.get(key);
      if (!known) messages.set(key, { token: event.token, chat: event.chat_number, max: event.number });
      else known.max = Math.max(known.max, event.number);
    }
  }
  return { chats, messages };
}

/** Parents raised by one statement. */
const UPDATE_CHUNK = 500;

/**
 * chats_count and messages_count from ChatCreated / MessageCreated. Numbers are gapless, so a parent's
 * count is the highest child number it has: each flush raises every touched parent once to the highest
 * number of the batch (`GREATEST`), which can neither count a redelivered event twice nor go above the
 * truth (the child exists, its event is published after its commit). One autocommit UPDATE per table and
 * flush (joined with the batch's rows, up to UPDATE_CHUNK parents) instead of one per parent: a flush over a
 * thousand chats is one statement and one log flush. Rows are sent in key order so that two projections
 * processes lock shared rows in the same order; a deadlock is retried.
 */
export class CountersProjection {
  readonly runner: ProjectionRunner;
  private readonly store: CounterStore;
  /** token → application id (immutable), to update chats by their unique (application_id, number). */
  private readonly applicationIds = new LRUCache<string, number>({ max: 100_000 });

  constructor(
    nc: NatsConnection,
    names: Names,
    orm: Orm,
    config: Config,
    log: Logger,
    counters?: ProjectionCounters,
  ) {
    this.store = new CounterStore(orm);
    this.runner = new ProjectionRunner(nc, {
      durable: COUNTERS,
      stream: names.eventsStream,
      // one filter for chat and message events (NATS 2.9 has no multi-filter consumers); application events are skipped
      filterSubject: names.eventsAll,
      batchMax: 1000,
      flushMs: config.countersFlushMs,
      ackWaitMs: 30_000,
      apply: (batch) => this.apply(batch),
    }, log, counters);
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private async resolveApplicationIds(tokens: string[]): Promise<void> {
    const missing = tokens.filter((t) => !this.applicationIds.has(t));
    if (missing.length === 0) return;
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const rows = await this.store.applicationIds(chunk);
      for (const row of rows) this.applicationIds.set(row.token, Number(row.id));
    }
  }

  async apply(batch: readonly Delivered[]): Promise<void> {
    const { chats, messages } = maxima(batch);
    await this.resolveApplicationIds([...new Set([...messages.values()].map((m) => m.token))]);
    // sorted by key, so that two projections processes lock the rows they share in the same order
    const chatRows = [...chats].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const messageRows: Array<[number, number, number]> = [];
    for (const m of messages.values()) {
      const applicationId = this.applicationIds.get(m.token);
      if (applicationId !== undefined) messageRows.push([applicationId, m.chat, m.max]);
    }
    messageRows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let i = 0; i < chatRows.length; i += UPDATE_CHUNK) {
      const chunk = chatRows.slice(i, i + UPDATE_CHUNK);
      await this.store.raiseChatsCounts(chunk);
    }
    for (let i = 0; i < messageRows.length; i += UPDATE_CHUNK) {
      const chunk = messageRows.slice(i, i + UPDATE_CHUNK);
      await this.store.raiseMessagesCounts(chunk);
    }
  }
}
