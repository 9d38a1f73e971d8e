import { chatKey, searchForm } from './documents.js';
import type { IndexNames } from './index-definition.js';

/**
 * A literal wildcard pattern: only `*`, `?` and the escape character `\` mean something in a wildcard
 * query, so escaping those three makes every other character (quotes, `AND`, `:`, `~`, brackets…) literal.
 */
export function escapeWildcard(text: string): string {
  return text.replace(/[\\*?]/g, (c) => `\\${c}`);
}

export interface SubstringPattern {
  /** `*<literal>*` over `body_lc`. */
  pattern: string;
  /** The search form of the query, which every hit's `body_lc` must contain. */
  form: string;
  /**
   * True when the pattern is only a superset: hits must be checked against `form`. Happens for queries with
   * U+FDD0 only (their form holds a backslash, which the pattern turns into `?` to stay clear of the
   * OpenSearch escaped-backslash bug).
   */
  verify: boolean;
}

/** docs/API.md's `body.toLowerCase().includes(query.toLowerCase())` as a wildcard pattern over `body_lc`. */
export function substringPattern(query: string): SubstringPattern {
  const form = searchForm(query);
  const verify = form.includes('\\');
  const literal = form.replace(/[\\*?]/g, (c) => (c === '\\' ? '?' : `\\${c}`));
  return { pattern: `*${literal}*`, form, verify };
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

export const SOURCE_FIELDS = ['number', 'body', 'created_at', 'updated_at'] as const;

/** The search request, shared by every engine. */
export function searchRequest(names: IndexNames, input: SearchInput, pattern: SubstringPattern) {
  const chat = chatKey(input.token, input.chatNumber);
  return {
    index: names.alias,
    routing: chat,
    size: input.size,
    track_total_hits: false,
    _source: pattern.verify ? [...SOURCE_FIELDS, 'body_lc'] : [...SOURCE_FIELDS],
    query: {
      bool: {
        filter: [
          { term: { chat } },
          ...(input.after > 0 ? [{ range: { number: { gt: input.after } } }] : []),
          { wildcard: { body_lc: { value: pattern.pattern } } },
        ],
      },
    },
    // the index sort order: the engine stops after `size` hits
    sort: [{ chat: { order: 'asc' as const } }, { number: { order: 'asc' as const } }],
  };
}
