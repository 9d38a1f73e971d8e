import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { dropDeployment, uniqueName } from '../support/env.js';
import { call } from '../support/harness.js';
import { spawnService, type ServiceProcess } from '../support/processes.js';
import { openSse, type SseEvent, type SseStream } from '../support/sse.js';

const TOTAL = 1000;
const CONCURRENCY = 40;

const created = (events: SseEvent[]): number[] => events.filter((e) => e.event === 'message.created').map((e) => (JSON.parse(e.data) as { number: number }).number);

/** A creation retried with its Idempotency-Key until it is confirmed (503/504 while the actors process is down). */
async function createMessage(url: string, path: string, body: string): Promise<number> {
  const key = randomUUID();
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await call(url, 'POST', `${path}/messages`, { body }, { 'idempotency-key': key });
      if (res.status === 201) return res.body.number as number;
      if (res.status < 500 || attempt > 40) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
    } catch (err) {
      if (attempt > 40) throw err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Two api processes, two actors processes; a stream on each api process while 1,000 messages are created
 * concurrently through both. Meanwhile one actors process is killed with SIGKILL (its partitions move to the
 * other after the lease) and one client disconnects and resumes, on the other api process, with Last-Event-ID.
 * Every client sees every message exactly once, in number order.
 */
test('live streams across processes: 1,000 concurrent creations, kill -9 of an actors process, resume → exactly once, in order', { timeout: 240_000 }, async (t) => {
  const namespace = uniqueName('live');
  const procs: ServiceProcess[] = [];
  t.after(async () => {
    await Promise.allSettled(procs.map((p) => p.stop()));
    await dropDeployment(namespace);
  });
  const env = { COMMAND_TIMEOUT_MS: '8000', LIVE_HEARTBEAT_MS: '1000' };
  const actors1 = await spawnService(namespace, { ...env, ROLES: 'actors' });
  procs.push(actors1);
  const [actors2, api1, api2] = await Promise.all([
    spawnService(namespace, { ...env, ROLES: 'actors' }),
    spawnService(namespace, { ...env, ROLES: 'api' }),
    spawnService(namespace, { ...env, ROLES: 'api' }),
  ]);
  procs.push(actors2, api1, api2);
  const url1 = api1.url!;
  const url2 = api2.url!;

  const app = await call(url1, 'POST', '/applications', { name: 'live cluster' });
  assert.equal(app.status, 201);
  const chat = await call(url2, 'POST', `/applications/${app.body.token}/chats`, {});
  assert.equal(chat.status, 201);
  const path = `/applications/${app.body.token}/chats/${chat.body.number}`;

  const c1 = await openSse(`${url1}${path}/messages/stream?after=0`);
  const c2a = await openSse(`${url2}${path}/messages/stream?after=0`);
  const later: { c2b?: SseStream } = {};
  t.after(() => {
    c1.close();
    c2a.close();
    later.c2b?.close();
  });
  assert.equal(c1.status, 200);
  assert.equal(c2a.status, 200);

  let next = 0;
  let done = 0;
  let killed: Promise<void> | undefined;
  const writer = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= TOTAL) return;
      await createMessage(i % 2 === 0 ? url1 : url2, path, `message ${i}`);
      done += 1;
      if (done === 300) killed = actors1.kill9();
    }
  };
  const writes = Promise.all(Array.from({ length: CONCURRENCY }, writer));

  // mid-stream: the second client disconnects and resumes on the other api process with the last id it got
  await c2a.until('400 events on the second client', (e) => created(e).length >= 400, 120_000);
  c2a.close();
  await c2a.ended;
  const lastId = c2a.events[c2a.events.length - 1]!.id!;
  const c2b = (later.c2b = await openSse(`${url1}${path}/messages/stream`, { 'last-event-id': lastId }));
  assert.equal(c2b.status, 200);

  await writes;
  await killed;
  const all = Array.from({ length: TOTAL }, (_, i) => i + 1);
  await c1.until('every message on the first client', (e) => created(e).length >= TOTAL, 60_000);
  await c2b.until('every message on the resumed client', (e) => created(c2a.events).length + created(e).length >= TOTAL, 60_000);
  // a little longer: a duplicate would arrive now
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(created(c1.events), all, 'first client: 1..1000 exactly once, in order');
  assert.deepEqual([...created(c2a.events), ...created(c2b.events)], all, 'resumed client: 1..1000 exactly once, in order across the resume');
  const list = await call(url2, 'GET', `${path}/messages?limit=1000`);
  assert.equal(list.body.length, TOTAL);
  for (const event of c1.events.slice(0, 5)) assert.deepEqual(JSON.parse(event.data), list.body[(JSON.parse(event.data) as { number: number }).number - 1]);
});
