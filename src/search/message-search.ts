import type { MessageResource } from '../protocol/resources.js';
import { resourceOf, type MessageDocument } from './documents.js';
import { toAppError, type SearchEngine } from './engine.js';
import type { IndexNames } from './index-definition.js';
import { searchRequest } from './query.js';

export interface SearchPage {
  items: MessageResource[];
  /** The `after` of the next page, when there is one. */
  next?: string;
}

/**
 * Message search for the API: the messages of one chat whose body contains `query` (literal,
 * case-insensitive), in number order, keyset-paginated. Results come from the index (eventually
 * consistent); an engine that is down or overloaded becomes 503 + Retry-After.
 */
export class MessageSearch {
  constructor(
    private readonly engine: SearchEngine,
    private readonly names: IndexNames,
  ) {}

  async search(token: string, chatNumber: number, query: string, after: number, limit: number): Promise<SearchPage> {
    let hits: Array<{ _source?: Pick<MessageDocument, 'number' | 'body' | 'created_at' | 'updated_at'> }>;
    try {
      const response = await this.engine.client.search<Pick<MessageDocument, 'number' | 'body' | 'created_at' | 'updated_at'>>(
        searchRequest(this.names, { token, chatNumber, query, after, limit }),
      );
      hits = response.hits.hits;
    } catch (err) {
      throw toAppError(err);
    }
    const items = hits.slice(0, limit).flatMap((hit) => (hit._source ? [resourceOf(hit._source)] : []));
    const last = items[items.length - 1];
    return hits.length > limit && last ? { items, next: String(last.number) } : { items };
  }
}
