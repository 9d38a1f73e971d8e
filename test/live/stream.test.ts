import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, startDeployment, waitFor } from '../support/harness.js';
import { openSse, type SseEvent, type SseStream } from '../support/sse.js';

const numbers = (events: SseEvent[], type = 'message.created'): number[] => events.filter((e) => e.event === type).map((e) => (JSON.parse(e.data) as { number: number }).number);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function chatOf(url: string): Promise<{ token: string; path: string }> {
  const app = await call(url, 'POST', '/applications', { name: 'live' });
  assert.equal(app.status, 201);
  const chat = await call(url, 'POST', `/applications/${app.body.token}/chats`, {});
  assert.equal(chat.status, 201);
  return { token: app.body.token, path: `/applications/${app.body.token}/chats/${chat.body.number}` };
}

test('live stream: creations in number order, edits, resume with Last-Event-ID and ?after, heartbeats, metrics', async (t) => {
  const { url } = await startDeployment(t, { env: { LIVE_HEARTBEAT_MS: '300' } });
  const { path } = await chatOf(url);
  for (let i = 1; i <= 3; i++) assert.equal((await call(url, 'POST', `${path}/messages`, { body: `before ${i}` })).status, 201);

  // no cursor: only what comes next
  const live = await openSse(`${url}${path}/messages/stream`);
  t.after(() => live.close());
  assert.equal(live.status, 200);
  assert.match(live.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(live.headers.get('cache-control'), 'no-store');
  assert.ok(live.headers.get('content-security-policy'), 'helmet headers on the stream');
  // from the start
  const all = await openSse(`${url}${path}/messages/stream?after=0`);
  t.after(() => all.close());

  await Promise.all(range(4, 30).map((i) => call(url, 'POST', `${path}/messages`, { body: `m ${i}` })));
  await all.until('30 messages', (e) => numbers(e).length >= 30);
  await live.until('27 messages', (e) => numbers(e).length >= 27);
  assert.deepEqual(numbers(all.events), range(1, 30));
  assert.deepEqual(numbers(live.events), range(4, 30));
  const first = JSON.parse(all.events[0]!.data);
  const got = await call(url, 'GET', `${path}/messages/1`);
  assert.deepEqual(first, got.body, 'data is the Message resource as the API returns it');
  assert.match(all.events[29]!.id!, /^30\.\d+$/);

  // an edit
  const edited = await call(url, 'PUT', `${path}/messages/2`, { body: 'edited two' });
  assert.equal(edited.status, 200);
  await all.until('the edit', (e) => numbers(e, 'message.updated').includes(2));
  const update = all.events.find((e) => e.event === 'message.updated')!;
  assert.deepEqual(JSON.parse(update.data), edited.body);
  assert.match(update.id!, /^30\.\d+$/);
  await all.until('a heartbeat', () => all.comments > 0, 5000);

  // disconnect; meanwhile 5 creations and an edit; resume with the last id: exactly what was missed
  const lastId = all.events[all.events.length - 1]!.id!;
  all.close();
  await all.ended;
  for (let i = 31; i <= 35; i++) await call(url, 'POST', `${path}/messages`, { body: `m ${i}` });
  const edit2 = await call(url, 'PATCH', `${path}/messages/5`, { body: 'edited five' });
  const resumed = await openSse(`${url}${path}/messages/stream`, { 'last-event-id': lastId });
  t.after(() => resumed.close());
  await resumed.until('31..35 and the edit of 5', (e) => numbers(e).length >= 5 && numbers(e, 'message.updated').includes(5));
  assert.deepEqual(numbers(resumed.events), range(31, 35));
  assert.deepEqual(JSON.parse(resumed.events.find((e) => e.event === 'message.updated')!.data), edit2.body);
  assert.ok(!numbers(resumed.events, 'message.updated').includes(2), 'an edit seen before the disconnect is not replayed');

  // ?after resumes creations only
  const after = await openSse(`${url}${path}/messages/stream?after=33`);
  t.after(() => after.close());
  await after.until('34, 35', (e) => numbers(e).length >= 2);
  await call(url, 'POST', `${path}/messages`, { body: 'm 36' });
  await after.until('36', (e) => numbers(e).includes(36));
  assert.deepEqual(numbers(after.events), [34, 35, 36]);
  assert.deepEqual(numbers(after.events, 'message.updated'), []);

  const metrics = await waitFor('metrics', async () => {
    const text = (await call(url, 'GET', '/metrics')).body as string;
    return /chat_live_streams [1-9]/.test(text) && text;
  });
  assert.match(metrics, /chat_live_watched_chats 1/);
  assert.match(metrics, /chat_live_streams_opened_total [1-9]/);
  assert.match(metrics, /chat_live_events_sent_total [1-9]/);
  assert.match(metrics, /chat_live_replayed_total [1-9]/);
});

test('live stream: bad input is a 4xx, bounds answer 429/503 with Retry-After, shutdown ends the streams', async (t) => {
  const { url, runtime } = await startDeployment(t, { env: { LIVE_MAX_STREAMS: '3', LIVE_MAX_STREAMS_PER_APPLICATION: '2' } });
  const a = await chatOf(url);
  const b = await chatOf(url);
  const missing = await call(url, 'GET', `${a.path.replace(/chats\/\d+$/, 'chats/99')}/messages/stream`);
  assert.equal(missing.status, 404);
  assert.equal((await call(url, 'GET', '/applications/nope/chats/1/messages/stream')).status, 404);
  assert.equal((await call(url, 'GET', `${a.path}/messages/stream?after=-1`)).status, 400);
  assert.equal((await call(url, 'GET', `${a.path}/messages/stream?after=x`)).status, 400);
  const badId = await call(url, 'GET', `${a.path}/messages/stream`, undefined, { 'last-event-id': '1.x' });
  assert.equal(badId.status, 400);
  assert.equal(badId.body.error, 'validation_error');
  assert.equal((await call(url, 'GET', '/applications/x/chats/abc/messages/stream')).status, 400);
  const head = await call(url, 'HEAD', `${a.path}/messages/stream`);
  assert.equal(head.status, 200);
  assert.match(head.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal((await call(url, 'POST', `${a.path}/messages/stream`)).status, 405);

  const s1 = await openSse(`${url}${a.path}/messages/stream`);
  const s2 = await openSse(`${url}${a.path}/messages/stream`);
  t.after(() => { s1.close(); s2.close(); });
  const s3 = await openSse(`${url}${a.path}/messages/stream`);
  assert.equal(s3.status, 429);
  assert.ok(Number(s3.headers.get('retry-after')) >= 1);
  assert.equal(JSON.parse(s3.body!).error, 'rate_limited');
  const s4 = await openSse(`${url}${b.path}/messages/stream`);
  t.after(() => s4.close());
  assert.equal(s4.status, 200);
  const s5 = await openSse(`${url}${b.path}/messages/stream`);
  assert.equal(s5.status, 503);
  assert.ok(Number(s5.headers.get('retry-after')) >= 1);

  // a client that leaves gives its slot back
  s4.close();
  await waitFor('the slot back', async () => {
    const again = await openSse(`${url}${b.path}/messages/stream`);
    if (again.status === 200) {
      t.after(() => again.close());
      return true;
    }
    return false;
  });

  // shutdown ends the open streams (clients reconnect elsewhere)
  await runtime.stop();
  await Promise.race([Promise.all([s1.ended, s2.ended]), new Promise((_, reject) => setTimeout(() => reject(new Error('streams not ended')), 10_000))]);
});

test('live stream: opening a stream counts against the rate limits', async (t) => {
  const { url } = await startDeployment(t, { env: { RATE_LIMIT: 'on', RATE_LIMIT_PER_APPLICATION: '4', RATE_LIMIT_PER_ADDRESS: '1000' } });
  const { path } = await chatOf(url); // the chat's creation is the application's first request
  const streams: SseStream[] = [];
  for (let i = 0; i < 3; i++) streams.push(await openSse(`${url}${path}/messages/stream`));
  t.after(() => { for (const s of streams) s.close(); });
  assert.deepEqual(streams.map((s) => s.status), [200, 200, 200]);
  const refused = await openSse(`${url}${path}/messages/stream`);
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.match(JSON.parse(refused.body!).message, /rate limit of this application/);
});
