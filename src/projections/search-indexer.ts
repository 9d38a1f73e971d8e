import { retry } from '../domain/backoff.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Names } from '../protocol/subjects.js';
import { indexedMessage, type IndexedMessage } from '../search/documents.js';
import { isEngineUnavailable, isIndexNotFound, type SearchEngine } from '../search/engine.js';
import { aliasLayout, ensureIndex, LAYOUT, type IndexNames } from '../search/index-definition.js';
import { bulkIndex, RetryableIndexError } from '../search/index-writer.js';
import { ProjectionRunner, type Delivered, type ProjectionCounters } from './runner.js';

export const SEARCH_INDEXER = 'search-indexer';

/** Events of messages → the search index. */
function messageDocuments(batch: readonly Delivered[]): IndexedMessage[] {
  const out: IndexedMessage[] = [];
  for (const { event } of batch) {
    if (event.type === 'MessageCreated' || event.type === 'MessageUpdated') out.push(indexedMessage(event));
  }
  return out;
}

/**
 * The search indexer: message events, batched, bulk-written through the alias with external versions
 * (idempotent, out-of-order safe). The index is created on the first batch; while the engine is down
 * batches are handed back and retried with backoff, so the indexer catches up by itself when it returns.
 */
export class SearchIndexer {
  private ensured = false;
  private stopped = false;
  readonly runner: ProjectionRunner;

  constructor(
    nc: ConstructorParameters<typeof ProjectionRunner>[0],
    names: Names,
    private readonly engine: SearchEngine,
    private readonly index: IndexNames,
    private readonly config: Config,
    private readonly log: Logger,
    counters?: ProjectionCounters,
  ) {
    this.runner = new ProjectionRunner(nc, {
      durable: SEARCH_INDEXER,
      stream: names.eventsStream,
      filterSubject: names.eventFilter('message'),
      batchMax: config.indexerBatchMax,
      flushMs: config.indexerFlushMs,
      ackWaitMs: 60_000,
      apply: (batch) => this.apply(batch),
    }, log, counters);
  }

  /** Starts consuming; the index is created in the background (retried while the engine is down). */
  async start(): Promise<void> {
    void this.ensureInBackground();
    await this.runner.start();
  }

  private async ensureInBackground(): Promise<void> {
    await retry(() => this.ensure(), {
      minMs: 500,
      maxMs: 10_000,
      shouldRetry: () => !this.stopped,
      unref: true,
      onRetry: (err) => this.log.debug({ err }, 'search index not created yet (engine unreachable?); retrying'),
    }).catch(() => undefined); // stopped first: the next start tries again
  }

  private async ensure(): Promise<void> {
    if (this.ensured) return;
    await ensureIndex(this.engine, this.index, { shards: this.config.searchShards, replicas: this.config.searchReplicas, refreshMs: this.config.searchRefreshMs });
    const layout = await aliasLayout(this.engine, this.index);
    if (layout !== undefined && layout !== LAYOUT) {
      this.log.error({ alias: this.index.alias, layout, needed: LAYOUT }, 'the search index has an older layout: searches answer 503 until `npm run reindex` rebuilds it (indexing goes on)');
    }
    this.ensured = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.runner.stop();
  }

  private async apply(batch: readonly Delivered[]): Promise<void> {
    const docs = messageDocuments(batch);
    if (docs.length === 0) return;
    await this.ensure();
    try {
      const result = await bulkIndex(this.engine, this.index.alias, docs, { requireAlias: true, timeoutMs: 30_000 });
      for (const r of result.rejected) this.log.error({ id: r.id, status: r.status, reason: r.reason }, 'message rejected by the search engine; skipped');
    } catch (err) {
      // the alias may have been deleted: check it again on the retry
      if (err instanceof RetryableIndexError || isIndexNotFound(err) || isEngineUnavailable(err)) this.ensured = false;
      throw err;
    }
  }
}
