import { createHash } from 'node:crypto';
import type { estypes } from '@elastic/elasticsearch';
import { errorTypeOf, type SearchEngine } from './engine.js';

/**
 * The message index of one NAMESPACE. Clients read and write through the alias `<ns>-messages`; the
 * concrete index behind it is `<ns>-messages-<stamp>`, so `reindex` can build a new one and swap the alias.
 *
 * Design (README "Search"): the body lower-cased in JavaScript (`body_lc`, exactly docs/API.md's
 * `toLowerCase()`) is indexed as its 1-, 2- and 3-grams of code points (`body_lc.g1`, `.g2`, `.g3`; the
 * 3-grams with their positions, which are their offsets). A query of n ≥ 3 code points is the phrase of its
 * n − 2 consecutive 3-grams, which matches exactly where the text contains it; a query of 1 or 2 is one term
 * of `.g1` or `.g2` (see query.ts). No analyzer changes case or drops a character, so the match is exact
 * and case folding is JavaScript's. The index is sorted by (chat, number) and documents are routed by chat,
 * so a search touches one shard and stops after `limit` hits in number order.
 */
export interface IndexNames {
  alias: string;
  /** `<alias>-*`: every concrete index this namespace ever created. */
  pattern: string;
  /** The first concrete index (a fixed name, so processes starting together create it once). */
  initial: string;
  concrete(stamp: number): string;
}

export function indexNames(namespace: string): IndexNames {
  // Index names must be lower case; keep namespaces that differ only by case apart.
  const lower = namespace.toLowerCase();
  const base = lower === namespace ? lower : `${lower}-${createHash('sha1').update(namespace).digest('hex').slice(0, 8)}`;
  const alias = `${base}-messages`;
  return {
    alias,
    pattern: `${alias}-*`,
    initial: `${alias}-000000000000001`,
    concrete: (stamp) => `${alias}-${String(stamp).padStart(15, '0')}`,
  };
}

export interface IndexOptions {
  shards: number;
  replicas: number;
  /**
   * How often new documents become searchable (SEARCH_REFRESH_MS), most of the freshness budget (docs/API.md: under
   * 2 s). Each refresh writes a segment that Lucene sorts into the index order (`sort.field`) and later merges:
   * at 1 s the engine spent 8–17% less CPU per indexed message than at 500 ms (README "Search").
   */
  refreshMs: number;
}

export const refreshInterval = (opts: Pick<IndexOptions, 'refreshMs'>): string => `${opts.refreshMs}ms`;

/**
 * The version of the index layout (mappings and analysis) this code writes and queries, kept in the
 * mapping's `_meta`. An index of another layout behind the alias is not searched (503 until `npm run
 * reindex` builds one of this layout); documents are the same in every layout, so indexing goes on.
 * 1: `body_lc` as a `wildcard` field (no `_meta`). 2: n-grams.
 */
export const LAYOUT = 2;

/** One tokenizer and analyzer per gram size: every gram of exactly n code points, whitespace and punctuation included. */
const grams = [1, 2, 3] as const;

export function indexSettings(opts: IndexOptions): Record<string, unknown> {
  return {
    number_of_shards: opts.shards,
    number_of_replicas: opts.replicas,
    refresh_interval: refreshInterval(opts),
    // Segments sorted like the results: a search sorted by (chat, number) stops after `size` hits.
    'sort.field': ['chat', 'number'],
    'sort.order': ['asc', 'asc'],
    analysis: {
      tokenizer: Object.fromEntries(grams.map((n) => [`gram${n}`, { type: 'ngram', min_gram: n, max_gram: n, token_chars: [] }])),
      analyzer: Object.fromEntries(grams.map((n) => [`gram${n}`, { type: 'custom', tokenizer: `gram${n}` }])),
    },
  };
}

const gramField = (n: (typeof grams)[number]) => ({
  type: 'text',
  analyzer: `gram${n}`,
  norms: false,
  // phrases of 3-grams need positions; 1- and 2-grams are single terms
  index_options: n === 3 ? 'positions' : 'docs',
}) as const;

export const mappings: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  _meta: { layout: LAYOUT },
  // body_lc is only indexed: hits return `body`
  _source: { excludes: ['body_lc'] },
  properties: {
    /** `<token>:<chat number>`: the one chat a search is scoped to (also the routing key). */
    chat: { type: 'keyword' },
    number: { type: 'long' },
    /** `body.toLowerCase()`, searched through its grams; the query side lower-cases the same way. */
    body_lc: { type: 'text', index: false, fields: { g1: gramField(1), g2: gramField(2), g3: gramField(3) } },
    /** Returned as is; not searchable. */
    body: { type: 'keyword', index: false, doc_values: false },
    created_at: { type: 'keyword', index: false, doc_values: false },
    updated_at: { type: 'keyword', index: false, doc_values: false },
  },
};

/**
 * Creates the initial index behind the alias unless the alias exists, or else brings the refresh interval of the
 * indices behind it to `opts` (the one setting of an existing index that follows the configuration). Safe when
 * several processes race.
 */
export async function ensureIndex(engine: SearchEngine, names: IndexNames, opts: IndexOptions): Promise<void> {
  await engine.detect();
  if (await engine.client.indices.existsAlias({ name: names.alias })) {
    await applyRefreshInterval(engine, names, opts);
    return;
  }
  try {
    await engine.client.indices.create({
      index: names.initial,
      settings: indexSettings(opts),
      mappings,
      aliases: { [names.alias]: {} },
    });
  } catch (err) {
    if (errorTypeOf(err) !== 'resource_already_exists_exception') throw err; // another process created it meanwhile
  }
}

async function applyRefreshInterval(engine: SearchEngine, names: IndexNames, opts: IndexOptions): Promise<void> {
  const wanted = refreshInterval(opts);
  const current = await engine.client.indices.getSettings({ index: names.alias, name: 'index.refresh_interval', flat_settings: true });
  const stale = Object.entries(current).filter(([, s]) => s.settings?.['index.refresh_interval'] !== wanted).map(([index]) => index);
  if (stale.length > 0) await engine.client.indices.putSettings({ index: stale.join(','), settings: { refresh_interval: wanted } });
}

/**
 * The layout of the index behind the alias (`_meta.layout`; 1 when it has none), or undefined when there is
 * no alias yet.
 */
export async function aliasLayout(engine: SearchEngine, names: IndexNames): Promise<number | undefined> {
  if (!(await engine.client.indices.existsAlias({ name: names.alias }))) return undefined;
  const found = await engine.client.indices.getMapping({ index: names.alias });
  const layouts = Object.values(found).map((m) => Number((m.mappings._meta as { layout?: unknown } | undefined)?.layout ?? 1));
  return Math.min(...layouts);
}

/** The concrete indices the alias points to. */
export async function aliasTargets(engine: SearchEngine, names: IndexNames): Promise<string[]> {
  if (!(await engine.client.indices.existsAlias({ name: names.alias }))) return [];
  return Object.keys(await engine.client.indices.getAlias({ name: names.alias }));
}
