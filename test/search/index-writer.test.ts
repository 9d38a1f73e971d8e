import assert from 'node:assert/strict';
import { test } from 'node:test';
import { indexedMessage, type IndexedMessage } from '../../src/search/documents.js';
import { SearchEngine } from '../../src/search/engine.js';
import { ensureIndex, indexNames } from '../../src/search/index-definition.js';
import { bulkIndex } from '../../src/search/index-writer.js';
import { dropSearchIndices, SEARCH_URL, uniqueName } from '../support/env.js';
import { ensureSearchEngine } from '../support/search-engine.js';

const TOKEN = 'tok_0123456789abcdefghij';
const at = '2026-12-07T00:00:00.000Z';
const message = (chat: number, number: number, body = `message ${chat}.${number}`): IndexedMessage =>
  indexedMessage({ token: TOKEN, chat_number: chat, number, body, created_at: at, updated_at: at, version: 1 });

async function setup(t: { after(fn: () => Promise<void>): void }) {
  await ensureSearchEngine();
  const namespace = uniqueName();
  const names = indexNames(namespace);
  const engine = SearchEngine.connect({ url: SEARCH_URL, engine: 'auto', requestTimeoutMs: 30_000 });
  t.after(async () => {
    await dropSearchIndices(namespace);
    await engine.client.close();
  });
  return { names, engine };
}

async function refreshIntervals(engine: SearchEngine, alias: string): Promise<Array<string | undefined>> {
  const settings = await engine.client.indices.getSettings({ index: alias, name: 'index.refresh_interval', flat_settings: true });
  return Object.values(settings).map((s) => s.settings?.['index.refresh_interval'] as string | undefined);
}

test('the refresh interval follows SEARCH_REFRESH_MS: a new index is created with it, an existing one is brought to it at the next start', async (t) => {
  const { names, engine } = await setup(t);
  await ensureIndex(engine, names, { shards: 1, replicas: 0, refreshMs: 1000 });
  assert.deepEqual(await refreshIntervals(engine, names.alias), ['1000ms']);
  await ensureIndex(engine, names, { shards: 1, replicas: 0, refreshMs: 250 });
  assert.deepEqual(await refreshIntervals(engine, names.alias), ['250ms']);
  await ensureIndex(engine, names, { shards: 1, replicas: 0, refreshMs: 250 }); // nothing to change: no error
  assert.deepEqual(await refreshIntervals(engine, names.alias), ['250ms']);
});

test('a bulk given out of the index order (chat, number) indexes every document, and a refused one is reported under its own id', async (t) => {
  const { names, engine } = await setup(t);
  await ensureIndex(engine, names, { shards: 1, replicas: 0, refreshMs: 1000 });
  // arrival order: chats interleaved, numbers descending within a chat; one document the strict mapping refuses
  const refused = message(2, 1);
  (refused.doc as unknown as Record<string, unknown>)['unexpected'] = 'field';
  const items = [message(3, 2), message(1, 2), refused, message(3, 1), message(1, 1), message(10, 1)];
  const result = await bulkIndex(engine, names.alias, items, { requireAlias: true, timeoutMs: 30_000 });
  assert.equal(result.indexed, 5);
  assert.equal(result.stale, 0);
  assert.deepEqual(result.rejected.map((r) => [r.id, r.status]), [[refused.id, 400]]);
  assert.match(result.rejected[0]!.reason, /strict_dynamic_mapping/);

  await engine.client.indices.refresh({ index: names.alias });
  const found = await engine.client.search<{ chat: string; number: number }>({ index: names.alias, size: 10, sort: ['chat', 'number'] });
  assert.deepEqual(found.hits.hits.map((h) => h._id), ['1', '1.2', '10', '3', '3.2'].map((k) => {
    const [chat, number = '1'] = k.split('.');
    return `${TOKEN}:${chat}:${number}`;
  }));

  // written again (a redelivered batch), in another order: all stale, none refused
  const again = await bulkIndex(engine, names.alias, [...items].reverse().filter((i) => i !== refused), { requireAlias: true, timeoutMs: 30_000 });
  assert.deepEqual(again, { indexed: 0, stale: 5, rejected: [] });
});
