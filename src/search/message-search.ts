import { TooManyRequestsError } from '../domain/errors.js';
import type { MessageResource } from '../protocol/resources.js';
import { resourceOf, type MessageDocument } from './documents.js';
import { toAppError, type SearchEngine } from './engine.js';
import type { IndexNames } from './index-definition.js';
import { searchRequest, substringPattern, type SearchInput, type SubstringPattern } from './query.js';

export interface SearchPage {
  items: MessageResource[];
  /** The `after` of the next page, when there is one. */
  next?: string;
}

type Source = Pick<MessageDocument, 'number' | 'body' | 'created_at' | 'updated_at'> & { body_lc?: string };

/** Hits fetched per round when results must be verified (rare queries, see SubstringPattern.verify). */
const VERIFY_ROUND = 1000;
/**
 * Most rounds one verified search runs: past them it answers the matches found so far with a `next` cursor at
 * the last hit scanned, so a request costs at most VERIFY_ROUND × VERIFY_MAX_ROUNDS hits whatever the chat.
 */
export const VERIFY_MAX_ROUNDS = 10;

/**
 * Message search for the API: the messages of one chat whose body contains `query` (literal,
 * case-insensitive), in number order, keyset-paginated. Results come from the index (eventually
 * consistent); an engine that is down or overloaded becomes 503 + Retry-After.
 */
export class MessageSearch {
  /** Searches running now, by application token. */
  private readonly running = new Map<string, number>();

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
      return await this.searchNow(token, chatNumber, query, after, limit);
    } finally {
      const left = (this.running.get(token) ?? 1) - 1;
      if (left <= 0) this.running.delete(token);
      else this.running.set(token, left);
    }
  }

  private async searchNow(token: string, chatNumber: number, query: string, after: number, limit: number): Promise<SearchPage> {
    const pattern = substringPattern(query);
    if (pattern.verify) {
      const { hits, scannedTo } = await this.verified({ token, chatNumber, query, after, size: VERIFY_ROUND }, pattern, limit + 1);
      const items = hits.slice(0, limit).map(resourceOf);
      const last = items[items.length - 1];
      if (hits.length > limit && last) return { items, next: String(last.number) };
      // the scan stopped at its cap before the end: the caller reads on from where it stopped
      return scannedTo !== undefined ? { items, next: String(scannedTo) } : { items };
    }
    const hits = await this.fetch({ token, chatNumber, query, after, size: limit + 1 }, pattern);
    const items = hits.slice(0, limit).map(resourceOf);
    const last = items[items.length - 1];
    return hits.length > limit && last ? { items, next: String(last.number) } : { items };
  }

  private async fetch(input: SearchInput, pattern: SubstringPattern): Promise<Source[]> {
    try {
      const response = await this.engine.client.search<Source>(searchRequest(this.names, input, pattern));
      return response.hits.hits.flatMap((hit) => (hit._source ? [hit._source] : []));
    } catch (err) {
      throw toAppError(err);
    }
  }

  /**
   * Superset pattern: fetch rounds in number order and keep the hits whose form contains the query's, for at
   * most `maxRounds` rounds; `scannedTo` is the last number scanned when the cap stopped it before the end.
   */
  async verified(input: SearchInput, pattern: SubstringPattern, wanted: number, maxRounds = VERIFY_MAX_ROUNDS): Promise<{ hits: Source[]; scannedTo?: number }> {
    const out: Source[] = [];
    let after = input.after;
    for (let rounds = 1; ; rounds++) {
      const round = await this.fetch({ ...input, after }, pattern);
      for (const hit of round) if (hit.body_lc?.includes(pattern.form)) out.push(hit);
      if (out.length >= wanted || round.length < input.size) return { hits: out.slice(0, wanted) };
      after = Number(round[round.length - 1]!.number);
      if (rounds >= maxRounds) return { hits: out, scannedTo: after };
    }
  }
}
