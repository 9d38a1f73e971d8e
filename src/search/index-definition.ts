import { createHash } from 'node:crypto';
import { errors } from '@elastic/elasticsearch';
import type { SearchEngine } from './engine.js';

/**
 * The message index of one NAMESPACE. Clients read and write through the alias `<ns>-messages`; the
 * concrete index behind it is `<ns>-messages-<stamp>`, so `reindex` can build a new one and swap the alias.
 *
 * Design (README "Search"): the body lower-cased in JavaScript (`body_lc`, exactly docs/API.md's
 * `toLowerCase()`) is a `wildcard` field (substrings of up to 3 characters are indexed, candidates are then
 * verified against the whole value): a `*<literal>*` wildcard query is then an exact, case-insensitive
 * substring match for queries of any length. The index is sorted by (chat, number) and documents are routed
 * by chat, so a search touches one shard and stops after `limit` hits in number order.
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
}

/** How often new documents become searchable; part of the freshness budget (docs/API.md: well under 2 s). */
export const REFRESH_INTERVAL = '500ms';

export function indexSettings(opts: IndexOptions): Record<string, unknown> {
  return {
    number_of_shards: opts.shards,
    number_of_replicas: opts.replicas,
    refresh_interval: REFRESH_INTERVAL,
    // Segments sorted like the results: a search sorted by (chat, number) stops after `size` hits.
    'sort.field': ['chat', 'number'],
    'sort.order': ['asc', 'asc'],
  };
}

export const mappings = {
  dynamic: 'strict',
  properties: {
    /** `<token>:<chat number>`: the one chat a search is scoped to (also the routing key). */
    chat: { type: 'keyword' },
    number: { type: 'long' },
    /** `body.toLowerCase()`; the query side lower-cases the same way. */
    body_lc: { type: 'wildcard' },
    /** Returned as is; not searchable. */
    body: { type: 'keyword', index: false, doc_values: false },
    created_at: { type: 'keyword', index: false, doc_values: false },
    updated_at: { type: 'keyword', index: false, doc_values: false },
  },
} as const;

/** Creates the initial index behind the alias unless the alias exists. Safe when several processes race. */
export async function ensureIndex(engine: SearchEngine, names: IndexNames, opts: IndexOptions): Promise<void> {
  await engine.detect();
  if (await engine.client.indices.existsAlias({ name: names.alias })) return;
  try {
    await engine.client.indices.create({
      index: names.initial,
      settings: indexSettings(opts),
      mappings,
      aliases: { [names.alias]: {} },
    });
  } catch (err) {
    if (!(err instanceof errors.ResponseError && /resource_already_exists/.test(JSON.stringify(err.body ?? '')))) throw err;
  }
}

/** The concrete indices the alias points to. */
export async function aliasTargets(engine: SearchEngine, names: IndexNames): Promise<string[]> {
  if (!(await engine.client.indices.existsAlias({ name: names.alias }))) return [];
  return Object.keys(await engine.client.indices.getAlias({ name: names.alias }));
}
