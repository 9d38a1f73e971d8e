/**
 * Reads of messages made together (the GETs of clients whose requests arrived at once) are answered by one query
 * (`Queries.messageByNumber`, `Queries.listMessages`, through `TurnBatcher`), and each caller gets its own rows:
 * across chats, for the same number or overlapping pages, for messages or chats that do not exist, past the batch
 * bound, and a failed query fails each caller. Real MariaDB.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openOrm } from '../../src/storage/orm.js';
import { Queries } from '../../src/storage/queries.js';
import { migratedDb } from '../support/db.js';

test('reads of one turn go to MySQL as one query; every caller gets its own rows', async (t) => {
  const { config, db } = await migratedDb(t);
  const now = new Date(Date.UTC(2026, 11, 6, 4, 5, 6, 789));
  await db.query('INSERT INTO applications (id, token, name, command_id, version, created_at, updated_at) VALUES (1, ?, ?, ?, 1, ?, ?)', ['tok', 'app', 'cmd-app', now, now]);
  for (const chat of [1, 2, 3]) {
    await db.query('INSERT INTO chats (id, application_id, number, command_id, version, created_at, updated_at) VALUES (?, 1, ?, ?, 1, ?, ?)', [chat, chat, `cmd-chat-${chat}`, now, now]);
  }
  const values = [1, 2].flatMap((chat) => Array.from({ length: 300 }, (_, i) => [chat, i + 1, `chat ${chat} message ${i + 1}`, `cmd-${chat}-${i + 1}`, i + 1, now, now]));
  await db.query('INSERT INTO messages (chat_id, number, body, command_id, version, created_at, updated_at) VALUES ?', [values]);

  const orm = await openOrm(config.databaseUrl, 4);
  t.after(() => orm.close());
  const queries = new Queries(orm);
  const connection = orm.em.getConnection();
  const execute = connection.execute.bind(connection);
  let statements = 0;
  connection.execute = ((...args: Parameters<typeof execute>) => {
    statements++;
    return execute(...args);
  }) as typeof connection.execute;

  const asks: Array<[chat: number, number: number]> = [[1, 7], [2, 7], [1, 300], [1, 7], [2, 1], [1, 301], [3, 1], [9, 1]];
  const rows = await Promise.all(asks.map(([chat, number]) => queries.messageByNumber(chat, number)));
  assert.equal(statements, 1, 'one query for the reads of one turn');
  assert.deepEqual(rows.map((r) => r?.body), ['chat 1 message 7', 'chat 2 message 7', 'chat 1 message 300', 'chat 1 message 7', 'chat 2 message 1', undefined, undefined, undefined]);
  assert.deepEqual(rows[0], { chatId: 1, number: 7, body: 'chat 1 message 7', version: 7, createdAt: '2026-12-06 04:05:06.789', updatedAt: '2026-12-06 04:05:06.789' },
    'the row has the columns a reader of a message uses (not the row id nor the command id) and its chat\'s id');

  // past the bound (200 per query) the reads of one turn make further queries, and still answer each caller
  statements = 0;
  const many = Array.from({ length: 450 }, (_, i) => [1 + (i % 2), 1 + (i % 300)] as const);
  const answers = await Promise.all(many.map(([chat, number]) => queries.messageByNumber(chat, number)));
  assert.equal(statements, 3);
  answers.forEach((row, i) => assert.equal(row?.body, `chat ${many[i]![0]} message ${many[i]![1]}`));

  // reads of different turns are different queries
  statements = 0;
  assert.equal((await queries.messageByNumber(2, 300))?.body, 'chat 2 message 300');
  assert.equal((await queries.messageByNumber(2, 299))?.body, 'chat 2 message 299');
  assert.equal(statements, 2);

  // pages: overlapping, across chats, past the end, of a missing chat; limit rows from after + 1
  statements = 0;
  const pages: Array<[chat: number, after: number, limit: number]> = [[1, 0, 100], [1, 50, 100], [2, 0, 3], [2, 290, 100], [1, 300, 100], [9, 0, 100], [1, 150, 1]];
  const got = await Promise.all(pages.map(([chat, after, limit]) => queries.listMessages(chat, after, limit)));
  assert.equal(statements, 1, 'one query for the pages of one turn');
  const expected = pages.map(([chat, after, limit]) => (chat > 2 ? [] : Array.from({ length: Math.max(0, Math.min(300, after + limit) - after) }, (_, i) => after + 1 + i)));
  assert.deepEqual(got.map((page) => page.map((m) => m.number)), expected);
  got.forEach((page, i) => page.forEach((m) => assert.equal(m.body, `chat ${pages[i]![0]} message ${m.number}`)));
  assert.deepEqual(Object.keys(got[0]![0]!).sort(), Object.keys(rows[0]!).sort(), 'a page\'s rows have the columns of a point read');

  // a failed query fails every read that shared it (503 unavailable, as any MySQL failure)
  connection.execute = (() => Promise.reject(new Error('connection lost'))) as typeof connection.execute;
  const failed = await Promise.allSettled([queries.messageByNumber(1, 1), queries.messageByNumber(2, 2), queries.listMessages(1, 0, 10)]);
  for (const outcome of failed) {
    assert.equal(outcome.status, 'rejected');
    assert.equal((outcome.reason as { statusCode?: number }).statusCode, 503);
  }
});
