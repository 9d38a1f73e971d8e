import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { names } from '../../src/protocol/subjects.js';
import { NATS_URL } from '../support/env.js';
import { call, startDeployment, waitFor } from '../support/harness.js';

interface Event { type: string; number: number; body: string; version: number }

/**
 * Internal services watch a chat on `<ns>.live.chat.<token>.<number>` (core NATS, `{"events":[…]}`) with the
 * resume rule of docs/API.md ("Live updates"): subscribe first, then read what was missed with messages.list after the last
 * number known, drop what was already seen, and fill a gap with messages.list.
 */
test('live NATS subject: the events of one chat, and the resume rule through messages.list', async (t) => {
  const { url, namespace } = await startDeployment(t);
  const nc: NatsConnection = await connect({ servers: NATS_URL });
  t.after(() => nc.close());
  const list = async (token: string, after: number): Promise<Array<{ number: number; body: string }>> => {
    const msg = await nc.request(`${namespace}.api.v1.messages.list`, new TextEncoder().encode(JSON.stringify({ token, chat_number: 1, after, limit: 1000 })), { timeout: 10_000 });
    return JSON.parse(new TextDecoder().decode(msg.data));
  };
  const app = await call(url, 'POST', '/applications', { name: 'nats live' });
  const token = app.body.token as string;
  await call(url, 'POST', `/applications/${token}/chats`, {});
  await call(url, 'POST', `/applications/${token}/chats`, {}); // another chat: its events are not on chat 1's subject
  for (let i = 1; i <= 5; i++) await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: `early ${i}` });

  // a watcher that knows messages up to 2: subscribe, then replay after 2, then live, by number
  const seen = new Map<number, string>();
  let last = 2;
  const live: Event[] = [];
  nc.subscribe(names(namespace).liveChatSubject(token, 1), {
    callback: (_err, msg) => {
      for (const e of (JSON.parse(new TextDecoder().decode(msg.data)) as { events: Event[] }).events) live.push(e);
    },
  });
  await nc.flush();
  for (const m of await list(token, last)) {
    seen.set(m.number, m.body);
    last = m.number;
  }
  await Promise.all(Array.from({ length: 20 }, (_, i) => call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: `live ${i}` })));
  await call(url, 'POST', `/applications/${token}/chats/2/messages`, { body: 'elsewhere' });
  await call(url, 'PUT', `/applications/${token}/chats/1/messages/4`, { body: 'four, edited' });
  await waitFor('the live events', async () => live.filter((e) => e.type === 'MessageCreated').length >= 20 && live.some((e) => e.type === 'MessageUpdated'));
  for (const e of live) {
    if (e.type === 'MessageUpdated') {
      seen.set(e.number, e.body);
      continue;
    }
    if (e.number <= last) continue; // already replayed
    if (e.number > last + 1) for (const m of await list(token, last)) if (m.number < e.number) seen.set(m.number, m.body); // a gap: fill it
    seen.set(e.number, e.body);
    last = Math.max(last, e.number);
  }
  assert.deepEqual([...seen.keys()].sort((a, b) => a - b), Array.from({ length: 23 }, (_, i) => i + 3));
  assert.equal(seen.get(4), 'four, edited');
  assert.ok(live.every((e) => e.type === 'MessageCreated' || e.type === 'MessageUpdated'));
  assert.ok(!live.some((e) => e.body === 'elsewhere'), 'only this chat\'s events');
  assert.ok(live.every((e) => Number.isInteger(e.version)), 'events carry their version');
});
