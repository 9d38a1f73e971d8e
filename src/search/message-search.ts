import { TooManyRequestsError, UnavailableError } from '../domain/errors.js';
import type { MessageResource } from '../protocol/resources.js';
import { resourceOf, type MessageDocument } from './documents.js';
import { toAppError, type SearchEngine } from './engine.js';
import { aliasLayout, LAYOUT, type IndexNames } from './index-definition.js';
import { searchRequest, type SearchInput } from './query.js';

export interface SearchPage {
  items: MessageResource[];
  /** The `after` of the next page, when there is one. */
  next?: string;
}

type Source = Pick<MessageDocument, 'number' | 'body' | 'created_at' | 'updated_at'>;

/** While the index behind the alias has another layout, how often it is looked at again. */
const LAYOUT_RECHECK_MS = 5000;

/**
 * Message search for the API: the messages of one chat whose body contains `query` (literal,
 * case-insensitive), in number order, keyset-paginated. Results come from the index (eventually
 * consistent); an engine that is down or overloaded becomes 503 + Retry-After.
 */
export class MessageSearch {
  /** Searches running now, by application token. */
  private readonly running = new Map<string, number>();
  /** Set once the index behind the alias has this code's layout (an index is never downgraded). */
  private layoutChecked = false;
  private layoutCheckedAt = 0;
  private staleLayout?: number;

  /**
   * @param concurrencyPerApplication searches of one application running at once in this process; more are refused
   *   at once with 429 + Retry-After, so one tenant's heavy queries cannot take the engine from the others.
   */
  constructor(
    private readonly engine: SearchEngine,
    private readonly names: IndexNames,
    private readonly concurrencyPerApplication = Number.POSITIVE_INFINITY,
  ) {}

  async search(token: string, chatNumber: number, query: string, after: number, limit: number): Promise<SearchPage> {
    const running = this.running.get(token) ?? 0;
    if (running >= this.concurrencyPerApplication) throw TooManyRequestsError.searches(this.concurrencyPerApplication);
    this.running.set(token, running + 1);
    try {
      await this.checkLayout();
      const hits = await this.fetch({ token, chatNumber, query, after, size: limit + 1 });
      const items = hits.slice(0, limit).map(resourceOf);
      const last = items[items.length - 1];
      return hits.length > limit && last ? { items, next: String(last.number) } : { items };
    } finally {
      const left = (this.running.get(token) ?? 1) - 1;
      if (left <= 0) this.running.delete(token);
      else this.running.set(token, left);
    }
  }

  /** An index of an older layout would answer the queries of this one wrongly: 503 until it is rebuilt. */
  private async checkLayout(): Promise<void> {
    if (this.layoutChecked) return;
    if (this.staleLayout === undefined || Date.now() - this.layoutCheckedAt >= LAYOUT_RECHECK_MS) {
      let layout: number | undefined;
      try {
        layout = await aliasLayout(this.engine, this.names);
      } catch (err) {
        throw toAppError(err);
      }
      this.layoutCheckedAt = Date.now();
      if (layout === undefined) throw UnavailableError.dependency('search'); // the projections have not created it yet
      if (layout === LAYOUT) {
        this.layoutChecked = true;
        this.staleLayout = undefined;
        return;
      }
      this.staleLayout = layout;
    }
    throw new UnavailableError(
      `search is unavailable: the search index has layout ${this.staleLayout} and this version needs layout ${LAYOUT}; an operator must run \`npm run reindex\``,
      Math.ceil(LAYOUT_RECHECK_MS / 1000),
    );
  }

  private async fetch(input: SearchInput): Promise<Source[]> {
    try {
      const response = await this.engine.client.search<Source>(searchRequest(this.names, input));
      return response.hits.hits.flatMap((hit) => (hit._source ? [hit._source] : []));
    } catch (err) {
      throw toAppError(err);
    }
  }
}
