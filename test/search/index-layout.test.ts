import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { indexNames, LAYOUT } from '../../src/search/index-definition.js';
import { SEARCH_URL, testEnv, uniqueName } from '../support/env.js';
import { call, startDeployment, waitFor } from '../support/harness.js';
import { ensureSearchEngine, storedDocuments } from '../support/search-engine.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The index of layout 1 (before n-grams): `body_lc` as a `wildcard` field, no `_meta`. */
const layout1 = {
  settings: { number_of_shards: 1, number_of_replicas: 0, 'sort.field': ['chat', 'number'], 'sort.order': ['asc', 'asc'] },
  mappings: {
    dynamic: 'strict',
    properties: {
      chat: { type: 'keyword' },
      number: { type: 'long' },
      body_lc: { type: 'wildcard' },
      body: { type: 'keyword', index: false, doc_values: false },
      created_at: { type: 'keyword', index: false, doc_values: false },
      updated_at: { type: 'keyword', index: false, doc_values: false },
    },
  },
};

test('an index of an older layout is not searched (503 naming the fix) until `npm run reindex` rebuilds it; indexing goes on', { timeout: 240_000 }, async (t) => {
  await ensureSearchEngine();
  assert.equal(LAYOUT, 2, 'this test builds the layout before the current one');
  const namespace = uniqueName();
  const names = indexNames(namespace);
  const created = await fetch(`${SEARCH_URL}/${names.initial}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...layout1, aliases: { [names.alias]: {} } }),
  });
  assert.equal(created.status, 200, await created.text());

  const { url } = await startDeployment(t, { namespace, env: { INDEXER_FLUSH_MS: '50' } });
  const token = (await call(url, 'POST', '/applications', { name: 'layout' })).body.token as string;
  await call(url, 'POST', `/applications/${token}/chats`, {});
  for (const body of ['Hello old layout', 'nothing here', 'HELLO again']) {
    assert.equal((await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body })).status, 201);
  }
  await waitFor('messages indexed into the old index', async () => (await storedDocuments(namespace)).length === 3, 30_000, 200);

  const search = `/applications/${token}/chats/1/messages/search?query=hello`;
  const refused = await call(url, 'GET', search);
  assert.equal(refused.status, 503, JSON.stringify(refused.body));
  assert.match(refused.body.message as string, /layout 1 .*layout 2.*npm run reindex/);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);

  const { stderr } = await run(process.execPath, ['--import', 'tsx', 'src/search/reindex-cli.ts'], {
    cwd: ROOT, env: { ...process.env, ...testEnv(namespace, { LOG_LEVEL: 'warn' }) }, timeout: 120_000,
  });
  assert.match(stderr, /done 3\/3 100\.0%/);
  const mapping = (await (await fetch(`${SEARCH_URL}/${names.alias}/_mapping`)).json()) as Record<string, { mappings: { _meta?: { layout?: number } } }>;
  assert.deepEqual(Object.values(mapping).map((m) => m.mappings._meta?.layout), [LAYOUT]);

  // the api looks at the layout again within its recheck interval
  let hits: Array<{ number: number }> = [];
  await waitFor('search answers from the rebuilt index', async () => {
    const res = await call(url, 'GET', search);
    hits = res.body as Array<{ number: number }>;
    return res.status === 200;
  }, 20_000, 250);
  assert.deepEqual(hits.map((h) => h.number), [1, 3]);
});
