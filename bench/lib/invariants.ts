/**
 * The end-of-run check, against MySQL once the implementation has settled: in the scenario's application,
 * chat numbers are exactly 1..N, each chat's message numbers are exactly 1..N, no number was acknowledged by two
 * 201s, and every acknowledged number is in MySQL (with 1..N gapless, number k is persisted iff k ≤ N).
 * Rows without a 201 are allowed: requests cut off at the end of the window, or answered 503, may still commit.
 */
import type mysql from 'mysql2/promise';
import type { Acks } from '../scenarios/types.js';

export interface InvariantReport {
  ok: boolean;
  chats: number;
  messages: number;
  acknowledged: number;
  problems: string[];
}

interface Range { n: number; distinct: number; lo: number; hi: number }

export async function checkInvariants(db: mysql.Pool, token: string, acks: Acks): Promise<InvariantReport> {
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (text: string): void => {
    problemCount++;
    if (problems.length < 20) problems.push(text);
  };
  const [chatRows] = await db.query<mysql.RowDataPacket[]>(
    'SELECT COUNT(*) AS n, COUNT(DISTINCT c.number) AS d, MIN(c.number) AS lo, MAX(c.number) AS hi FROM chats c JOIN applications a ON a.id = c.application_id WHERE a.token = ?', [token]);
  const chats = range(chatRows[0]);
  checkRange('chats of the application', chats, problem);
  const [messageRows] = await db.query<mysql.RowDataPacket[]>(
    `SELECT c.number AS chat, COUNT(*) AS n, COUNT(DISTINCT m.number) AS d, MIN(m.number) AS lo, MAX(m.number) AS hi
     FROM messages m JOIN chats c ON c.id = m.chat_id JOIN applications a ON a.id = c.application_id WHERE a.token = ? GROUP BY c.number`, [token]);
  const byChat = new Map<string, Range>();
  let messages = 0;
  for (const row of messageRows) {
    const r = range(row);
    byChat.set(String(row['chat']), r);
    messages += r.n;
    checkRange(`messages of chat ${row['chat']}`, r, problem);
  }
  let acknowledged = 0;
  for (const [parent, numbers] of Object.entries(acks)) {
    const persisted = parent === 'application' ? chats.hi : byChat.get(parent)?.hi ?? 0;
    const what = parent === 'application' ? 'chat' : `message of chat ${parent}, number`;
    const seen = new Set<number>();
    for (const n of numbers) {
      acknowledged++;
      if (!Number.isInteger(n) || n < 1) problem(`a 201 for a ${what} carried no valid number (${n})`);
      else if (seen.has(n)) problem(`two 201s acknowledged ${what} ${n}`);
      else if (n > persisted) problem(`${what} ${n} was acknowledged but is not in MySQL (highest persisted: ${persisted})`);
      seen.add(n);
    }
  }
  if (problemCount > problems.length) problems.push(`… ${problemCount - problems.length} more`);
  return { ok: problemCount === 0, chats: chats.n, messages, acknowledged, problems };
}

function range(row: mysql.RowDataPacket | undefined): Range {
  return { n: Number(row?.['n'] ?? 0), distinct: Number(row?.['d'] ?? 0), lo: Number(row?.['lo'] ?? 0), hi: Number(row?.['hi'] ?? 0) };
}

function checkRange(what: string, r: Range, problem: (text: string) => void): void {
  if (r.n === 0) return;
  if (r.distinct !== r.n) problem(`${what}: ${r.n - r.distinct} duplicate numbers`);
  if (r.lo !== 1 || r.hi !== r.n) problem(`${what}: numbers ${r.lo}..${r.hi} for ${r.n} rows (not exactly 1..N)`);
}
