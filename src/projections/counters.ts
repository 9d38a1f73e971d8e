import type { NatsConnection } from 'nats';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Names } from '../protocol/subjects.js';
import type { Orm } from '../storage/orm.js';
import { ProjectionRunner, type Delivered } from './runner.js';

export const COUNTERS = 'counters';

/** The highest chat number per application token and message number per chat seen in a batch. */
export interface CounterMaxima {
  chats: Map<string, number>;
  messages: Map<string, { token: string; chat: number; max: number }>;
}

export function maxima(batch: readonly Delivered[]): CounterMaxima {
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

const sql = {
  applicationIds: (n: number): string => `SELECT id, token FROM applications WHERE token IN (${new Array(n).fill('?').join(', ')})`,
  raiseChatsCount: 'UPDATE applications SET chats_count = GREATEST(chats_count, ?) WHERE token = ?',
  raiseMessagesCount: 'UPDATE chats SET messages_count = GREATEST(messages_count, ?) WHERE application_id = ? AND number = ?',
} as const;

const PARALLEL_UPDATES = 4;

/**
 * chats_count and messages_count from ChatCreated / MessageCreated. Numbers are gapless, so a parent's
 * count is the highest child number it has: each flush raises every touched parent once to the highest
 * number of the batch (`GREATEST`), which can neither count a redelivered event twice nor go above the
 * truth (the child exists, its event is published after its commit). Each UPDATE is a single-row
 * autocommit statement by unique key: it holds one row lock at a time, so it cannot deadlock with the
 * actors' transactions.
 */
export class CountersProjection {
  readonly runner: ProjectionRunner;
  /** token → application id (immutable), to update chats by their unique (application_id, number). */
  private readonly applicationIds = new Map<string, number>();

  constructor(
    nc: NatsConnection,
    names: Names,
    private readonly orm: Orm,
    config: Config,
    log: Logger,
  ) {
    this.runner = new ProjectionRunner(nc, {
      durable: COUNTERS,
      stream: names.eventsStream,
      // one filter for chat and message events (NATS 2.9 has no multi-filter consumers); application events are skipped
      filterSubject: names.eventsAll,
      batchMax: 1000,
      flushMs: config.countersFlushMs,
      ackWaitMs: 30_000,
      apply: (batch) => this.apply(batch),
    }, log);
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private execute(query: string, params: unknown[]): Promise<unknown> {
    return this.orm.em.getConnection().execute(query, params, 'run');
  }

  private async resolveApplicationIds(tokens: string[]): Promise<void> {
    const missing = tokens.filter((t) => !this.applicationIds.has(t));
    if (missing.length === 0) return;
    if (this.applicationIds.size > 100_000) this.applicationIds.clear();
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const rows = (await this.orm.em.getConnection().execute(sql.applicationIds(chunk.length), chunk, 'all')) as { id: number; token: string }[];
      for (const row of rows) this.applicationIds.set(row.token, Number(row.id));
    }
  }

  async apply(batch: readonly Delivered[]): Promise<void> {
    const { chats, messages } = maxima(batch);
    await this.resolveApplicationIds([...new Set([...messages.values()].map((m) => m.token))]);
    const updates: Array<[string, unknown[]]> = [];
    for (const [token, max] of chats) updates.push([sql.raiseChatsCount, [max, token]]);
    for (const m of messages.values()) {
      const applicationId = this.applicationIds.get(m.token);
      if (applicationId !== undefined) updates.push([sql.raiseMessagesCount, [m.max, applicationId, m.chat]]);
    }
    for (let i = 0; i < updates.length; i += PARALLEL_UPDATES) {
      await Promise.all(updates.slice(i, i + PARALLEL_UPDATES).map(([q, p]) => this.execute(q, p)));
    }
  }
}
