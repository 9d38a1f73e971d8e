import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDb } from '../support/db.js';
import { call, startDeployment, waitFor } from '../support/harness.js';
import { startPrivateEngine, storedDocuments } from '../support/search-engine.js';

const ENGINE_PORT = 9211;

/**
 * The search engine (a private OpenSearch node) is stopped while messages are being created and edited,
 * then restarted: meanwhile writes and reads keep working and search answers 503 + Retry-After; afterwards
 * the index holds exactly the rows of MySQL, each at its latest version — nothing lost, nothing duplicated.
 */
test('search engine stopped and restarted during indexing: nothing lost or duplicated', { timeout: 600_000 }, async (t) => {
  const engine = await startPrivateEngine(t, ENGINE_PORT);
  const { url, namespace } = await startDeployment(t, { env: { ELASTICSEARCH_URL: engine.url, INDEXER_FLUSH_MS: '50', INDEXER_BATCH_MAX: '50' } });
  const db = await openDb(namespace);
  t.after(() => db.end());

  const token = (await call(url, 'POST', '/applications', { name: 'restart' })).body.token as string;
  for (let i = 0; i < 3; i++) assert.equal((await call(url, 'POST', `/applications/${token}/chats`, {})).status, 201);

  // a steady writer: creations in 3 chats, and edits of earlier messages
  let writing = true;
  let created = 0;
  let edited = 0;
  const failures: string[] = [];
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      const chat = 1 + (i % 3);
      const res = await call(url, 'POST', `/applications/${token}/chats/${chat}/messages`, { body: `Body ${i} of chat ${chat}` });
      if (res.status !== 201) failures.push(`create ${res.status}`);
      else created++;
      if (i % 4 === 3) {
        const n = 1 + Math.floor(Math.random() * Math.max(1, Math.floor(created / 3)));
        const put = await call(url, 'PUT', `/applications/${token}/chats/${chat}/messages/${n}`, { body: `Edited ${i} of chat ${chat}` });
        if (put.status === 200) edited++;
        else if (put.status !== 404) failures.push(`edit ${put.status}`);
      }
    }
  })();

  await waitFor('some messages searchable', async () => {
    const res = await call(url, 'GET', `/applications/${token}/chats/1/messages/search?query=body`);
    return res.status === 200 && res.body.length > 10;
  }, 60_000, 200);

  await engine.stop();
  const createdAtStop = created;
  // engine down: search is 503 with Retry-After; writes and reads go on
  const down = await call(url, 'GET', `/applications/${token}/chats/1/messages/search?query=body`);
  assert.equal(down.status, 503);
  assert.equal(down.body.error, 'unavailable');
  assert.ok(Number(down.headers.get('retry-after')) >= 1);
  const whileDown = await call(url, 'POST', `/applications/${token}/chats/2/messages`, { body: 'written while the engine is down' });
  assert.equal(whileDown.status, 201);
  assert.equal((await call(url, 'GET', `/applications/${token}/chats/2/messages/${whileDown.body.number}`)).body.body, 'written while the engine is down');
  assert.equal((await call(url, 'PUT', `/applications/${token}/chats/2/messages/${whileDown.body.number}`, { body: 'edited while down' })).status, 200);
  assert.equal((await call(url, 'GET', `/applications/${token}/chats/2/messages`)).status, 200);
  await waitFor('more writes while the engine is down', async () => created > createdAtStop + 50, 60_000);

  await engine.start();
  await waitFor('search is back', async () => (await call(url, 'GET', `/applications/${token}/chats/1/messages/search?query=body`)).status === 200, 60_000, 200);
  const createdAtRestart = created;
  await waitFor('writes after the restart', async () => created > createdAtRestart + 30, 60_000);
  writing = false;
  await writer;
  assert.deepEqual(failures, []);
  assert.ok(edited > 0);

  const [rows] = await db.query(
    `SELECT c.number AS chat, m.number, m.body, m.version FROM messages m JOIN chats c ON c.id = m.chat_id ORDER BY c.number, m.number`);
  const expected = (rows as { chat: number; number: number; body: string; version: number }[])
    .map((r) => ({ id: `${token}:${r.chat}:${r.number}`, body: r.body, version: Number(r.version) }));
  assert.ok(expected.length > createdAtRestart);
  const docs = await waitFor('index equals MySQL', async () => {
    const stored = await storedDocuments(namespace, engine.url);
    const same = stored.length === expected.length && stored.every((d, i) => d.id === expected[i]!.id && d.body === expected[i]!.body && d.version === expected[i]!.version);
    return same ? stored : undefined;
  }, 60_000, 500);
  assert.equal(new Set(docs.map((d) => d.id)).size, docs.length, 'no duplicates');
});
