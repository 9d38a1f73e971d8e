import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { indexNames } from '../../src/search/index-definition.js';
import { openDb, range } from '../support/db.js';
import { SEARCH_URL, testEnv } from '../support/env.js';
import { call, startDeployment, waitFor } from '../support/harness.js';
import { ensureSearchEngine, storedDocuments } from '../support/search-engine.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function aliasTargets(namespace: string): Promise<string[]> {
  const res = await fetch(`${SEARCH_URL}/_alias/${indexNames(namespace).alias}`);
  return res.ok ? Object.keys((await res.json()) as Record<string, unknown>) : [];
}

/** `npm run reindex` builds a new index from MySQL while writes and searches go on, then swaps the alias. */
test('reindex rebuilds the index without downtime and loses no concurrent write', { timeout: 300_000 }, async (t) => {
  await ensureSearchEngine();
  const { url, namespace } = await startDeployment(t, { env: { INDEXER_FLUSH_MS: '50' } });
  const db = await openDb(namespace);
  t.after(() => db.end());
  const token = (await call(url, 'POST', '/applications', { name: 'reindex' })).body.token as string;
  for (let i = 0; i < 2; i++) await call(url, 'POST', `/applications/${token}/chats`, {});
  for (let i = 0; i < 400; i += 50) {
    await Promise.all(range(50).map((j) => call(url, 'POST', `/applications/${token}/chats/${1 + ((i + j) % 2)}/messages`, { body: `Seed ${i + j}` })));
  }
  await waitFor('seed indexed', async () => (await storedDocuments(namespace)).length === 400, 30_000, 200);
  const before = await aliasTargets(namespace);
  assert.equal(before.length, 1);

  // writes (creations and edits) and searches run during the whole reindex
  let busy = true;
  const searchStatuses = new Set<number>();
  const load = (async () => {
    for (let i = 0; busy; i++) {
      const chat = 1 + (i % 2);
      assert.equal((await call(url, 'POST', `/applications/${token}/chats/${chat}/messages`, { body: `During ${i}` })).status, 201);
      assert.equal((await call(url, 'PUT', `/applications/${token}/chats/${chat}/messages/${1 + (i % 150)}`, { body: `Edited during ${i}` })).status, 200);
      searchStatuses.add((await call(url, 'GET', `/applications/${token}/chats/${chat}/messages/search?query=seed`)).status);
    }
  })();
  const { stderr } = await run(process.execPath, ['--import', 'tsx', 'src/search/reindex-cli.ts'], {
    cwd: ROOT, env: { ...process.env, ...testEnv(namespace, { LOG_LEVEL: 'warn' }) }, timeout: 240_000,
  });
  busy = false;
  await load;
  assert.match(stderr, /scan \d+\/\d+/, 'progress lines');
  assert.match(stderr, /done \d+\/\d+ 100\.0%/);
  assert.deepEqual([...searchStatuses], [200], 'search answered all along');

  const after = await aliasTargets(namespace);
  assert.equal(after.length, 1);
  assert.notEqual(after[0], before[0], 'alias swapped to a new index');
  const old = await fetch(`${SEARCH_URL}/${before[0]}`, { method: 'HEAD' });
  assert.equal(old.status, 404, 'old index deleted');

  const [rows] = await db.query('SELECT c.number AS chat, m.number, m.body, m.version FROM messages m JOIN chats c ON c.id = m.chat_id ORDER BY c.number, m.number');
  const expected = (rows as { chat: number; number: number; body: string; version: number }[]).map((r) => `${token}:${r.chat}:${r.number}|${r.body}|${r.version}`);
  await waitFor('new index equals MySQL', async () => {
    const docs = (await storedDocuments(namespace)).map((d) => `${d.id}|${d.body}|${d.version}`);
    return docs.length === expected.length && docs.every((d, i) => d === expected[i]);
  }, 30_000, 200);
});
