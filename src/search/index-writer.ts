import type { IndexedMessage } from './documents.js';
import type { SearchEngine } from './engine.js';

export class RetryableIndexError extends Error {
  override name = 'RetryableIndexError';
}

export interface BulkResult {
  /** Written (new version stored). */
  indexed: number;
  /** Refused because the index already holds this or a newer version: nothing to do. */
  stale: number;
  /** Refused for good (a mapping error: retrying cannot help); logged by the caller. */
  rejected: Array<{ id: string; status: number; reason: string }>;
}

/** Keeps, per document id, only the highest version (a batch may carry a create and several edits). */
function newestPerId(items: readonly IndexedMessage[]): IndexedMessage[] {
  const byId = new Map<string, IndexedMessage>();
  for (const item of items) {
    const known = byId.get(item.id);
    if (!known || item.version > known.version) byId.set(item.id, item);
  }
  return [...byId.values()];
}

/**
 * The index's own order (its `sort.field`: chat, then number). Lucene sorts every new segment into that order
 * when it flushes, postings and all; a bulk request already in order leaves it a few sorted runs to merge instead
 * of a shuffle (3–7% of the engine's CPU per message spread over many chats: README "Search", bench/index-cost.ts).
 * Chat keys are ASCII (base64url token, digits), so comparing strings compares their bytes, as the index does.
 */
function inIndexOrder(a: IndexedMessage, b: IndexedMessage): number {
  if (a.doc.chat !== b.doc.chat) return a.doc.chat < b.doc.chat ? -1 : 1;
  return a.doc.number - b.doc.number;
}

/**
 * One `_bulk` request, idempotent: document ids are fixed and `version_type: external` makes the engine
 * keep the highest version (an older or repeated write answers 409, which counts as done).
 * `requireAlias` refuses to auto-create an index when the alias is missing (someone deleted it).
 * Throws RetryableIndexError when the request or any item failed in a way a retry can fix.
 */
export async function bulkIndex(
  engine: SearchEngine,
  target: string,
  items: readonly IndexedMessage[],
  opts: { requireAlias: boolean; timeoutMs: number },
): Promise<BulkResult> {
  const result: BulkResult = { indexed: 0, stale: 0, rejected: [] };
  const unique = newestPerId(items).sort(inIndexOrder);
  if (unique.length === 0) return result;
  const operations: unknown[] = [];
  for (const item of unique) {
    operations.push({ index: { _index: target, _id: item.id, routing: item.routing, version: item.version, version_type: 'external', ...(opts.requireAlias ? { require_alias: true } : {}) } });
    operations.push(item.doc);
  }
  const response = await engine.client.bulk({ operations }, { requestTimeout: opts.timeoutMs, maxRetries: 0 });
  let retryable = 0;
  let firstRetryable = '';
  response.items.forEach((entry, i) => {
    const op = entry.index;
    if (!op) return;
    const status = op.status;
    if (status >= 200 && status < 300) result.indexed++;
    else if (status === 409) result.stale++;
    else if (status === 429 || status >= 500 || status === 404) {
      // 404: the alias/index vanished (require_alias); the caller re-creates it and retries
      retryable++;
      firstRetryable ||= `${status} ${op.error?.type ?? ''} ${op.error?.reason ?? ''}`;
    } else {
      result.rejected.push({ id: unique[i]?.id ?? op._id ?? '?', status, reason: `${op.error?.type ?? ''}: ${op.error?.reason ?? ''}` });
    }
  });
  if (retryable > 0) throw new RetryableIndexError(`${retryable} of ${unique.length} documents not indexed (${firstRetryable.trim()})`);
  return result;
}
