import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Queries } from '../../src/storage/queries.js';
import { migratedDb } from '../support/db.js';

/** Every read the service makes uses an index: EXPLAIN shows no full table scan (type ALL). */
test('every query uses an index (EXPLAIN has no full scan)', async (t) => {
  const { db } = await migratedDb(t);

  // enough rows that the optimizer has a real choice
  const now = new Date();
  for (let a = 1; a <= 50; a++) {
    await db.query('INSERT INTO applications (token, name, command_id, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)', [`tok${a}`, `app ${a}`, `cmd-app-${a}`, now, now]);
  }
  for (let c = 1; c <= 200; c++) {
    await db.query('INSERT INTO chats (application_id, number, name, command_id, version, created_at, updated_at) VALUES (?, ?, NULL, ?, 1, ?, ?)', [(c % 50) + 1, c, `cmd-chat-${c}`, now, now]);
  }
  const values = Array.from({ length: 2000 }, (_, m) => [(m % 200) + 1, m + 1, `body ${m}`, `cmd-msg-${m}`, 1, now, now]);
  await db.query('INSERT INTO messages (chat_id, number, body, command_id, version, created_at, updated_at) VALUES ?', [values]);
  await db.query('ANALYZE TABLE applications, chats, messages');

  const sql = Queries.sql;
  const cases: Array<[string, string, unknown[]]> = [
    ['applicationByToken', sql.applicationByToken, ['tok3']],
    ['applicationsFirst', sql.applicationsFirst, [100]],
    ['applicationsAfter', sql.applicationsAfter, [3, 100]],
    ['chatByNumber', sql.chatByNumber, ['tok3', 2]],
    ['chatsAfter', sql.chatsAfter, [3, 1, 100, 100]],
    ['messagesByNumbers', sql.messagesByNumbers([2, 1]), [3, 3, 203, 4, 4]],
    ['messagePages', sql.messagePages(2), [3, 1, 100, 4, 50, 150]],
    ['lastMessageNumber', sql.lastMessageNumber, [3]],
    ['messagesEditedSince', sql.messagesEditedSince, [3, 50, 10, 500]],
    ['applicationByCommandId', sql.applicationByCommandId, ['cmd-app-3']],
    ['chatByCommandId', sql.chatByCommandId, ['cmd-chat-3']],
    ['messageByCommandId', sql.messageByCommandId, ['cmd-msg-3']],
    ['applicationStates', sql.applicationStates(3), ['tok3', 'tok4', 'tok5']],
    ['chatStates', sql.chatStates(3), ['tok3', 2, 52, 102]],
  ];
  assert.equal(cases.length, Object.keys(sql).length, 'every query in Queries.sql is checked');
  for (const [name, statement, params] of cases) {
    const [plan] = await db.query(`EXPLAIN ${statement}`, params);
    for (const row of plan as Array<{ type: string | null; table: string | null; key: string | null; Extra: string | null }>) {
      assert.notEqual(row.type, 'ALL', `${name}: full scan of ${row.table} (${JSON.stringify(row)})`);
    }
  }
});

/**
 * A page deep into a long chat seeks to its first number: the plan is a range over (chat_id, number) of about
 * `limit` entries, not a walk of the chat's entries from its first one (what `number > ?` alone got).
 */
test('a page of messages deep into a long chat is an index range of the page, not a scan of the chat', async (t) => {
  const { db } = await migratedDb(t);
  const now = new Date();
  await db.query('INSERT INTO applications (token, name, command_id, version, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)', ['tok', 'app', 'cmd-app', now, now]);
  await db.query('INSERT INTO chats (application_id, number, name, command_id, version, created_at, updated_at) VALUES (1, 1, NULL, ?, 1, ?, ?)', ['cmd-chat', now, now]);
  for (let from = 1; from <= 20_000; from += 5000) {
    const values = Array.from({ length: 5000 }, (_, i) => [1, from + i, `body ${from + i}`, `cmd-msg-${from + i}`, 1, now, now]);
    await db.query('INSERT INTO messages (chat_id, number, body, command_id, version, created_at, updated_at) VALUES ?', [values]);
  }
  await db.query('ANALYZE TABLE messages');
  for (const pages of [[1, 15_001, 15_101], [1, 15_001, 15_101, 1, 3_001, 3_101, 1, 15_050, 15_150]]) {
    const [plan] = await db.query(`EXPLAIN ${Queries.sql.messagePages(pages.length / 3)}`, pages);
    const [row] = plan as Array<{ type: string; rows: number; Extra: string | null }>;
    assert.equal(row?.type, 'range', JSON.stringify(plan));
    assert.ok(Number(row.rows) <= 1000, `rows examined ${row.rows}`);
    assert.doesNotMatch(row.Extra ?? '', /filesort/, `pages come in index order, not sorted afterwards: ${JSON.stringify(plan)}`);
  }
});
