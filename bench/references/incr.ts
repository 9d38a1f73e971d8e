/**
 * Redis-INCR reference: the other common design. The number comes from Redis `INCR` on the parent's counter,
 * the 201 is sent at once, and a background flusher writes the rows later in multi-row INSERTs (every 20 ms,
 * at most 2,000 rows a statement).
 *
 * NOT DURABLE: a crash or kill of this process loses every acknowledged row still queued (and a Redis restart
 * without persistence hands out numbers again). It is here to show what skipping durability buys, not as a
 * design to copy.
 */
import type mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import { buildApp, env, openDatabase, serve } from './common.js';

const FLUSH_MS = 20;
const BATCH = 2000;

process.stderr.write('incr reference: acknowledges before persisting; a crash loses the acknowledged rows still queued\n');

const pool = await openDatabase();
const redis = new Redis(env.redisUrl);
const ns = env.namespace;

interface ChatRow { applicationId: number; number: number; name: string | null; createdAt: Date }
interface MessageRow { applicationId: number; chat: number; number: number; body: string; createdAt: Date }
const chats: ChatRow[] = [];
const messages: MessageRow[] = [];
let inFlight = 0;

const chatIds = new Map<string, number>();
const known = new Set<string>();

async function flushOnce(): Promise<void> {
  const chatBatch = chats.splice(0, BATCH);
  const messageBatch = messages.splice(0, BATCH);
  inFlight = chatBatch.length + messageBatch.length;
  try {
    if (chatBatch.length > 0) {
      await pool.query('INSERT INTO chats (application_id, number, name, created_at) VALUES ?', [chatBatch.map((c) => [c.applicationId, c.number, c.name, c.createdAt])]);
    }
    if (messageBatch.length > 0) {
      // chat ids of the batch (chats are flushed before the messages that follow them)
      const missing = [...new Set(messageBatch.map((m) => `${m.applicationId}:${m.chat}`))].filter((k) => !chatIds.has(k));
      if (missing.length > 0) {
        const pairs = missing.map((k) => k.split(':').map(Number));
        const [rows] = await pool.query<mysql.RowDataPacket[]>(`SELECT id, application_id, number FROM chats WHERE (application_id, number) IN (${pairs.map(() => '(?, ?)').join(', ')})`, pairs.flat());
        for (const r of rows) chatIds.set(`${r['application_id']}:${r['number']}`, Number(r['id']));
      }
      const ready = messageBatch.filter((m) => chatIds.has(`${m.applicationId}:${m.chat}`));
      messages.unshift(...messageBatch.filter((m) => !chatIds.has(`${m.applicationId}:${m.chat}`)));
      if (ready.length > 0) {
        await pool.query('INSERT INTO messages (chat_id, number, body, created_at) VALUES ?', [ready.map((m) => [chatIds.get(`${m.applicationId}:${m.chat}`), m.number, m.body, m.createdAt])]);
      }
    }
  } catch (err) {
    process.stderr.write(`incr reference: flush failed, will retry: ${String(err)}\n`);
    chats.unshift(...chatBatch);
    messages.unshift(...messageBatch);
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    inFlight = 0;
  }
}

let stopping = false;
const flusher = (async () => {
  while (!stopping || chats.length + messages.length > 0) {
    await new Promise((r) => setTimeout(r, FLUSH_MS));
    while (chats.length + messages.length > 0) await flushOnce();
  }
})();

const app = await buildApp(pool, {
  createChat: async (applicationId, name) => {
    const number = await redis.incr(`${ns}:app:${applicationId}:chats`);
    chats.push({ applicationId, number, name, createdAt: new Date() });
    return number;
  },
  createMessage: async (applicationId, chat, body) => {
    const key = `${applicationId}:${chat}`;
    if (!known.has(key)) {
      const highest = Number(await redis.get(`${ns}:app:${applicationId}:chats`) ?? 0);
      if (chat > highest) return null;
      known.add(key);
    }
    const number = await redis.incr(`${ns}:chat:${key}:messages`);
    messages.push({ applicationId, chat, number, body, createdAt: new Date() });
    return number;
  },
  pending: () => chats.length + messages.length + inFlight,
});
await serve(app, async () => {
  stopping = true;
  await flusher;
  redis.disconnect();
  await pool.end();
});
