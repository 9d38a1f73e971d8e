import { DeliverPolicy, type NatsConnection } from 'nats';
import { retry } from '../domain/backoff.js';
import { eventsOf } from '../protocol/events.js';
import type { Names } from '../protocol/subjects.js';
import { MessageExport } from '../storage/message-export.js';
import type { Orm } from '../storage/orm.js';
import { isoUtc } from '../storage/presenters.js';
import { indexedMessage, type IndexedMessage } from './documents.js';
import type { SearchEngine } from './engine.js';
import { aliasTargets, ensureIndex, indexSettings, mappings, refreshInterval, type IndexNames, type IndexOptions } from './index-definition.js';
import { bulkIndex } from './index-writer.js';

export interface ReindexProgress {
  phase: 'scan' | 'catch-up' | 'swap' | 'done';
  done: number;
  total: number;
}

export interface ReindexOptions {
  engine: SearchEngine;
  index: IndexNames;
  indexOptions: IndexOptions;
  orm: Orm;
  nc: NatsConnection;
  names: Names;
  batchSize?: number;
  /** Keep the previous index instead of deleting it after the swap. */
  keepOld?: boolean;
  onProgress?: (p: ReindexProgress) => void;
}

export interface ReindexResult {
  index: string;
  previous: string[];
  documents: number;
  replayed: number;
}


/**
 * Rebuilds the message index from MySQL without downtime: searches keep using the old index until the
 * alias swaps, and the live indexer keeps writing through the alias meanwhile.
 *
 * 1. note S0, the EVENTS stream's last sequence; create a new concrete index (no refresh, no replicas);
 * 2. bulk-load every message row, keyset by id, with its row version as external version;
 * 3. restore refresh/replicas, replay message events after S0 (a row written after the scan passed it
 *    is published after S0, so the replay brings it; stale replays are refused by version);
 * 4. swap the alias atomically, replay the events published meanwhile (the live indexer may have written
 *    them to the old index just before the swap), delete the old index.
 */
export async function reindex(opts: ReindexOptions): Promise<ReindexResult> {
  const { engine, index } = opts;
  const batchSize = opts.batchSize ?? 2000;
  const progress = opts.onProgress ?? (() => undefined);
  await ensureIndex(engine, index, opts.indexOptions);
  const jsm = await opts.nc.jetstreamManager();
  const lastSeq = async (): Promise<number> => (await jsm.streams.info(opts.names.eventsStream)).state.last_seq;

  const startSeq = await lastSeq();
  const target = index.concrete(Date.now());
  await engine.client.indices.create({
    index: target,
    settings: { ...indexSettings(opts.indexOptions), refresh_interval: '-1', number_of_replicas: 0 },
    mappings,
  }, { requestTimeout: 60_000 });

  const messages = new MessageExport(opts.orm);
  const total = await messages.count();
  let done = 0;
  progress({ phase: 'scan', done, total });
  for (let after = 0; ;) {
    const rows = await messages.page(after, batchSize);
    if (rows.length === 0) break;
    after = Number(rows[rows.length - 1]!.id);
    const docs = rows.map((r) => indexedMessage({
      token: r.token, chat_number: Number(r.chat_number), number: Number(r.number), body: r.body, version: r.version,
      created_at: isoUtc(r.created_at), updated_at: isoUtc(r.updated_at),
    }));
    await bulkWithRetry(engine, target, docs);
    done += rows.length;
    progress({ phase: 'scan', done, total: Math.max(total, done) });
  }

  await engine.client.indices.putSettings({ index: target, settings: { refresh_interval: refreshInterval(opts.indexOptions), number_of_replicas: opts.indexOptions.replicas } });
  await engine.client.indices.refresh({ index: target });
  let replayed = 0;
  const caughtUp = await replay(opts, target, startSeq, (n) => {
    replayed += n;
    progress({ phase: 'catch-up', done: replayed, total: replayed });
  });

  progress({ phase: 'swap', done, total: done });
  const previous = await aliasTargets(engine, index);
  await engine.client.indices.updateAliases({
    actions: [...previous.map((old) => ({ remove: { index: old, alias: index.alias } })), { add: { index: target, alias: index.alias } }],
  });
  await replay(opts, target, caughtUp, (n) => (replayed += n));
  await engine.client.indices.refresh({ index: target });
  if (!opts.keepOld && previous.length > 0) await engine.client.indices.delete({ index: previous });
  progress({ phase: 'done', done, total: done });
  return { index: target, previous, documents: done, replayed };
}

async function bulkWithRetry(engine: SearchEngine, target: string, docs: IndexedMessage[]): Promise<void> {
  await retry(() => bulkIndex(engine, target, docs, { requireAlias: false, timeoutMs: 60_000 }), { retries: 4, minMs: 1000, maxMs: 16_000 });
}

/**
 * Applies the message events after `fromSeq` up to the stream's current end to `target`; returns the
 * sequence it caught up to.
 */
async function replay(opts: ReindexOptions, target: string, fromSeq: number, onBatch: (n: number) => void): Promise<number> {
  const jsm = await opts.nc.jetstreamManager();
  const until = (await jsm.streams.info(opts.names.eventsStream)).state.last_seq;
  if (until <= fromSeq) return fromSeq;
  const consumer = await opts.nc.jetstream().consumers.get(opts.names.eventsStream, {
    filterSubjects: opts.names.eventFilter('message'), // a string: NATS 2.9 has no multi-filter consumers
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: fromSeq + 1,
  });
  for (;;) {
    const docs: IndexedMessage[] = [];
    let reached = false;
    const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
    for await (const m of batch) {
      for (const event of eventsOf(m.json<unknown>())) {
        if (event.type === 'MessageCreated' || event.type === 'MessageUpdated') docs.push(indexedMessage(event));
      }
      if (m.seq >= until || m.info.pending === 0) reached = true;
    }
    await bulkWithRetry(opts.engine, target, docs);
    onBatch(docs.length);
    if (reached || docs.length === 0) return until;
  }
}
