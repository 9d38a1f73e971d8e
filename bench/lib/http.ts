/** Plain HTTP helpers for the preparation steps (not measured). */
import type { Acks } from '../scenarios/types.js';

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON resources
}

/** POST with JSON; a 503 (e.g. partitions still being claimed right after start) is retried for up to a minute. */
export async function post(url: string, path: string, body: unknown = {}): Promise<Reply> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const reply = { status: res.status, body: await res.json() };
    if (reply.status !== 503 || Date.now() > deadline) return reply;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function created(url: string, path: string, body: unknown = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON resources
  const reply = await post(url, path, body);
  if (reply.status !== 201) throw new Error(`POST ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Runs `n` tasks with at most `concurrency` at a time. */
export async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, async () => {
    for (let i = next++; i < n; i = next++) await task(i);
  }));
}

/** A new application with `chats` chats; the chat numbers are acknowledged under 'application'. */
export async function applicationWithChats(url: string, chats: number, acks: Acks): Promise<string> {
  const token = (await created(url, '/applications', { name: 'bench' })).token as string;
  await pool(chats, 32, async () => {
    const chat = await created(url, `/applications/${token}/chats`);
    (acks['application'] ??= []).push(chat.number as number);
  });
  return token;
}

/** One message into each of chats 1..chats (activates the service's actors before the window). */
export async function warmUp(url: string, token: string, chats: number, acks: Acks): Promise<void> {
  await pool(chats, 32, async (i) => {
    const m = await created(url, `/applications/${token}/chats/${i + 1}/messages`, { body: 'warm-up' });
    (acks[String(i + 1)] ??= []).push(m.number as number);
  });
}
