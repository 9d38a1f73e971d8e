/**
 * Lock-based reference: the design most implementations of this service use. One transaction per request:
 * `SELECT MAX(number) … FOR UPDATE` over the parent's rows, INSERT number + 1, COMMIT. Durable before the 201.
 * A deadlock or lock-wait timeout (InnoDB's gap locks make them common under contention) is retried up to
 * three more times, then answered 503 with Retry-After.
 */
import type mysql from 'mysql2/promise';
import { buildApp, openDatabase, serve } from './common.js';

const RETRIES = 3;
const RETRYABLE = new Set([1213, 1205]); // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT

const pool = await openDatabase();

/** Runs `work` in a transaction, retrying deadlocks; 'busy' when every attempt deadlocked. */
async function transaction<T>(work: (conn: mysql.PoolConnection) => Promise<T>): Promise<T | 'busy'> {
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    const conn = await pool.getConnection();
    try {
      await conn.beginTransaction();
      const result = await work(conn);
      await conn.commit();
      return result;
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      if (!RETRYABLE.has((err as { errno?: number }).errno ?? 0)) throw err;
    } finally {
      conn.release();
    }
  }
  return 'busy';
}

const chatIds = new Map<string, number>();
async function chatId(applicationId: number, number: number): Promise<number | undefined> {
  const key = `${applicationId}:${number}`;
  let id = chatIds.get(key);
  if (id === undefined) {
    const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT id FROM chats WHERE application_id = ? AND number = ?', [applicationId, number]);
    id = rows[0]?.['id'] as number | undefined;
    if (id !== undefined) chatIds.set(key, id);
  }
  return id;
}

const app = await buildApp(pool, {
  createChat: (applicationId, name) => transaction(async (conn) => {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COALESCE(MAX(number), 0) AS n FROM chats WHERE application_id = ? FOR UPDATE', [applicationId]);
    const number = Number(rows[0]!['n']) + 1;
    await conn.query('INSERT INTO chats (application_id, number, name, created_at) VALUES (?, ?, ?, NOW(3))', [applicationId, number, name]);
    return number;
  }),
  createMessage: async (applicationId, chatNumber, body) => {
    const id = await chatId(applicationId, chatNumber);
    if (id === undefined) return null;
    return transaction(async (conn) => {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COALESCE(MAX(number), 0) AS n FROM messages WHERE chat_id = ? FOR UPDATE', [id]);
      const number = Number(rows[0]!['n']) + 1;
      await conn.query('INSERT INTO messages (chat_id, number, body, created_at) VALUES (?, ?, ?, NOW(3))', [id, number, body]);
      return number;
    });
  },
  pending: () => 0,
});
await serve(app, () => pool.end());
