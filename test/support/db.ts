import type { TestContext } from 'node:test';
import mysql from 'mysql2/promise';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { migrate } from '../../src/storage/orm.js';
import { dropDeployment, MYSQL_URL, testConfig, uniqueName } from './env.js';

/** Direct MySQL access for assertions (the service under test never gets this connection). */
export async function openDb(namespace: string): Promise<mysql.Connection> {
  return mysql.createConnection(`${MYSQL_URL}/${namespace}`);
}

/** A fresh database with the service's schema and a direct connection to it, both gone after the test. */
export async function migratedDb(t: TestContext): Promise<{ namespace: string; config: Config; db: mysql.Connection }> {
  const namespace = uniqueName();
  const config = testConfig(namespace);
  t.after(() => dropDeployment(namespace));
  await migrate(config.databaseUrl, createLogger('silent'));
  const db = await openDb(namespace);
  t.after(() => db.end());
  return { namespace, config, db };
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
