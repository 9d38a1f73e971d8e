import mysql from 'mysql2/promise';
import { MYSQL_URL } from './env.js';

/** Direct MySQL access for assertions (the service under test never gets this connection). */
export async function openDb(namespace: string): Promise<mysql.Connection> {
  return mysql.createConnection(`${MYSQL_URL}/${namespace}`);
}

export async function messageNumbers(db: mysql.Connection, token: string, chatNumber: number): Promise<number[]> {
  const [rows] = await db.query(
    `SELECT m.number FROM messages m JOIN chats c ON c.id = m.chat_id JOIN applications a ON a.id = c.application_id
     WHERE a.token = ? AND c.number = ? ORDER BY m.number`,
    [token, chatNumber],
  );
  return (rows as { number: number }[]).map((r) => Number(r.number));
}

export async function chatNumbers(db: mysql.Connection, token: string): Promise<number[]> {
  const [rows] = await db.query(
    'SELECT c.number FROM chats c JOIN applications a ON a.id = c.application_id WHERE a.token = ? ORDER BY c.number',
    [token],
  );
  return (rows as { number: number }[]).map((r) => Number(r.number));
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
