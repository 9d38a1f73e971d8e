import type { IndexNames } from './index-definition.js';
import { chatKey } from './documents.js';

/**
 * A literal wildcard pattern: only `*`, `?` and the escape character `\` mean something in a wildcard
 * query, so escaping those three makes every other character (quotes, `AND`, `:`, `~`, brackets…) literal.
 */
export function escapeWildcard(text: string): string {
  return text.replace(/[\\*?]/g, (c) => `\\${c}`);
}

/** `*<query lower-cased>*`: API.md's `body.toLowerCase().includes(query.toLowerCase())`. */
export function substringPattern(query: string): string {
  return `*${escapeWildcard(query.toLowerCase())}*`;
}

export interface SearchInput {
  token: string;
  chatNumber: number;
  query: string;
  /** Exclusive: only numbers above it. */
  after: number;
  /** Page size; one more is fetched to learn whether a next page exists. */
  limit: number;
}

/** The search request, shared by every engine. */
export function searchRequest(names: IndexNames, input: SearchInput) {
  const chat = chatKey(input.token, input.chatNumber);
  return {
    index: names.alias,
    routing: chat,
    size: input.limit + 1,
    track_total_hits: false,
    _source: ['number', 'body', 'created_at', 'updated_at'],
    query: {
      bool: {
        filter: [
          { term: { chat } },
          ...(input.after > 0 ? [{ range: { number: { gt: input.after } } }] : []),
          { wildcard: { body_lc: { value: substringPattern(input.query) } } },
        ],
      },
    },
    // same order as the index sort: the search stops after `size` hits
    sort: [{ chat: { order: 'asc' as const } }, { number: { order: 'asc' as const } }],
  };
}
