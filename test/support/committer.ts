import type { TestContext } from 'node:test';
import { textBytes, type Write } from '../../src/actors/committer.js';
import { createLogger } from '../../src/log.js';
import { Message } from '../../src/storage/entities/index.js';
import { migrate, openOrm, type Orm } from '../../src/storage/orm.js';
import { openDb } from './db.js';
import { dropDeployment, MYSQL_URL, uniqueName } from './env.js';

export type Db = Awaited<ReturnType<typeof openDb>>;

/** For the group committer's tests: a migrated database with one application, `chats` chats and the fences of partitions 0–3 at epoch 1. */
export async function committerDb(t: TestContext, chats: number): Promise<{ orm: Orm; db: Db; chatIds: number[] }> {
  const namespace = uniqueName('cm');
  const url = `${MYSQL_URL}/${namespace}`;
  await migrate(url, createLogger('silent'));
  const orm = await openOrm(url, 8);
  const db = await openDb(namespace);
  t.after(async () => {
    await orm.close(true);
    await db.end();
    await dropDeployment(namespace);
  });
  const now = new Date();
  const [app] = await db.query('INSERT INTO applications (token, name, chats_count, command_id, version, created_at, updated_at) VALUES (?, ?, 0, ?, 1, ?, ?)', ['tok', 'app', 'cmd-app', now, now]);
  const appId = (app as { insertId: number }).insertId;
  const chatIds: number[] = [];
  for (let n = 1; n <= chats; n++) {
    const [chat] = await db.query('INSERT INTO chats (application_id, number, name, messages_count, command_id, version, created_at, updated_at) VALUES (?, ?, NULL, 0, ?, 1, ?, ?)', [appId, n, `cmd-chat-${n}`, now, now]);
    chatIds.push((chat as { insertId: number }).insertId);
  }
  for (let p = 0; p < 4; p++) await db.query('INSERT INTO partition_fences (partition_no, epoch, owner, updated_at) VALUES (?, 1, ?, ?)', [p, 'test', now]);
  return { orm, db, chatIds };
}

/** A write creating message `number` of a chat. */
export function message(chatId: number, number: number, body = `m${number}`): Write {
  const now = new Date();
  return {
    bytes: textBytes(body),
    apply: (em) => {
      em.create(Message, { chat: chatId, number, body, commandId: `c-${chatId}-${number}-${body.length}`, version: 1, createdAt: now, updatedAt: now });
    },
  };
}

/** The message numbers of a chat in MySQL. */
export async function numbers(db: Db, chatId: number): Promise<number[]> {
  const [rows] = await db.query('SELECT number FROM messages WHERE chat_id = ? ORDER BY number', [chatId]);
  return (rows as { number: number }[]).map((r) => Number(r.number));
}
