import { chatKey, searchForm } from './documents.js';
import type { IndexNames } from './index-definition.js';

/**
 * docs/API.md's `body.toLowerCase().includes(query.toLowerCase())` as a query on the grams of `body_lc`
 * (index-definition.ts): the phrase of the 3-grams of the query's search form when it has 3 code points or
 * more (consecutive positions: the grams overlap exactly as in the query), else the one 1- or 2-gram it is.
 * Nothing is escaped or interpreted: terms and phrases are literal.
 */
function substringQuery(query: string): Record<string, unknown> {
  const form = searchForm(query);
  const codePoints = [...form].length; // the engine's n-gram tokenizers count code points, not UTF-16 units
  if (codePoints >= 3) return { match_phrase: { 'body_lc.g3': form } };
  return { term: { [`body_lc.g${codePoints}`]: form } };
}

export interface SearchInput {
  token: string;
  chatNumber: number;
  query: string;
  /** Exclusive: only numbers above it. */
  after: number;
  /** Hits to fetch. */
  size: number;
}

/** The search request, shared by every engine. */
export function searchRequest(names: IndexNames, input: SearchInput) {
  const chat = chatKey(input.token, input.chatNumber);
  return {
    index: names.alias,
    routing: chat,
    size: input.size,
    track_total_hits: false,
    _source: true, // the stored source as it is (body_lc is excluded by the mapping): no filtering per hit
    query: {
      bool: {
        filter: [
          { term: { chat } },
          ...(input.after > 0 ? [{ range: { number: { gt: input.after } } }] : []),
          substringQuery(input.query),
        ],
      },
    },
    // the index sort order: the engine stops after `size` hits
    sort: [{ chat: { order: 'asc' as const } }, { number: { order: 'asc' as const } }],
  };
}
