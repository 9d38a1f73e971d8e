/**
 * The read scenarios' fixture: one chat of `--fill` messages (100,000 by default), made once per deployment.
 *
 * Filled directly, not through the API (which would take a minute or more): the rows are written with multi-row
 * INSERTs into the service's own `messages` table (as the actors would write them: number 1..N, a unique
 * command id), then `dist/search/reindex-cli.js` (`npm run reindex`) builds the search index from MySQL and swaps
 * the alias, exactly as an operator would after a restore. So the fill measures nothing about the write path.
 */
import { randomBytes } from 'node:crypto';
import type mysql from 'mysql2/promise';
import type { Deployment } from '../lib/deployments.js';
import { created } from '../lib/http.js';
import { startNode } from '../lib/processes.js';
import { fixtureBody } from './shared.js';

export interface BigChat {
  token: string;
  messages: number;
  fill_ms: number;
  index_ms: number;
}

const made = new WeakMap<Deployment, Promise<BigChat>>();

export function bigChat(dep: Deployment, messages: number): Promise<BigChat> {
  let p = made.get(dep);
  if (!p) {
    p = make(dep, messages);
    made.set(dep, p);
  }
  return p;
}

async function make(dep: Deployment, messages: number): Promise<BigChat> {
  if (!dep.env) throw new Error(`${dep.impl}: the read fixture needs the service`);
  const token = (await created(dep.url, '/applications', { name: 'bench reads' })).token as string;
  await created(dep.url, `/applications/${token}/chats`);
  const [rows] = await dep.db.query<mysql.RowDataPacket[]>('SELECT c.id FROM chats c JOIN applications a ON a.id = c.application_id WHERE a.token = ? AND c.number = 1', [token]);
  const chatId = rows[0]?.['id'] as number;
  const t0 = performance.now();
  const now = new Date();
  for (let i = 0; i < messages; i += 2000) {
    const values: unknown[][] = [];
    for (let k = i + 1; k <= Math.min(messages, i + 2000); k++) values.push([chatId, k, fixtureBody(k), randomBytes(16).toString('hex'), 1, now, now]);
    await dep.db.query('INSERT INTO messages (chat_id, number, body, command_id, version, created_at, updated_at) VALUES ?', [values]);
  }
  await dep.db.query('UPDATE chats SET messages_count = ? WHERE id = ?', [messages, chatId]);
  const fillMs = performance.now() - t0;
  const t1 = performance.now();
  // not measured, and on a busy machine a refresh of 100,000 documents can take longer than a search may:
  // a generous SEARCH_TIMEOUT_MS for the reindex only, and one more try
  for (let attempt = 1; ; attempt++) {
    const reindex = startNode('reindex', 'dist/search/reindex-cli.js', { ...dep.env, SEARCH_TIMEOUT_MS: '120000' });
    const [code] = await new Promise<[number | null]>((resolve) => reindex.child.once('exit', (c) => resolve([c])));
    if (code === 0) break;
    if (attempt === 2) throw new Error(`reindex failed (${code}):\n${reindex.output.slice(-20).join('\n')}`);
  }
  return { token, messages, fill_ms: Math.round(fillMs), index_ms: Math.round(performance.now() - t1) };
}
