import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { RequestStrategy, connect, headers, type MsgHdrs, type NatsConnection } from 'nats';
import { limits } from '../../src/domain/limits.js';
import { assertNoInternalIds } from '../support/expect.js';
import { NATS_URL, TEST_ADMIN_KEY } from '../support/env.js';
import { call, startDeployment } from '../support/harness.js';

interface Reply {
  /** `Nats-Service-Error-Code`, or 200 for a success reply. */
  status: number;
  error: string | undefined;
  headers: MsgHdrs | undefined;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- reply bodies are asserted field by field
}

async function client(t: TestContext): Promise<NatsConnection> {
  const nc = await connect({ servers: NATS_URL, name: 'api-test' });
  t.after(() => nc.close());
  return nc;
}

/** A deployment plus a request function for its `<namespace>.api.v1.` subjects. */
async function setup(t: TestContext): Promise<{ url: string; namespace: string; nc: NatsConnection; request: (op: string, payload?: unknown, hdrs?: Record<string, string>) => Promise<Reply> }> {
  const { url, namespace } = await startDeployment(t);
  const nc = await client(t);
  const encoder = new TextEncoder();
  const request = async (op: string, payload?: unknown, hdrs: Record<string, string> = {}): Promise<Reply> => {
    const h = headers();
    for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    const data = payload === undefined ? new Uint8Array(0) : encoder.encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
    const msg = await nc.request(`${namespace}.api.v1.${op}`, data, { timeout: 15_000, headers: h });
    const code = msg.headers?.get('Nats-Service-Error-Code');
    const text = new TextDecoder().decode(msg.data);
    return {
      status: code ? Number(code) : 200,
      error: msg.headers?.get('Nats-Service-Error') || undefined,
      headers: msg.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  };
  return { url, namespace, nc, request };
}

function expectNatsError(reply: Reply, status: number, code: string, what = ''): void {
  const label = `${what} → ${reply.status} ${reply.error} ${JSON.stringify(reply.body)}`;
  assert.equal(reply.status, status, label);
  assert.ok(reply.error && reply.error.length > 0, `Nats-Service-Error is set: ${label}`);
  assert.equal(reply.body?.error, code, label);
  assert.equal(typeof reply.body?.message, 'string', label);
}

test('nats: $SRV discovery finds this deployment\'s chat service and its endpoints', async (t) => {
  const { namespace, nc, request } = await setup(t);
  const prefix = `${namespace}.api.v1.`;
  // collect every answer for the whole window (not just until a lull): other deployments' services answer too,
  // and under load ours may not be among the first
  const services = nc.services.client({ strategy: RequestStrategy.Timer, maxWait: 3000 });

  // several deployments may run a `chat` service on this NATS at once: ours is the one on our subjects
  const infos = [];
  for await (const info of await services.info('chat')) infos.push(info);
  const ours = infos.filter((i) => i.endpoints.some((e) => e.subject.startsWith(prefix)));
  assert.equal(ours.length, 1, `one instance serves ${prefix}*: ${JSON.stringify(infos.map((i) => i.metadata))}`);
  const info = ours[0]!;
  assert.equal(info.name, 'chat');
  assert.ok(info.endpoints.every((e) => e.subject.startsWith(prefix)), 'every endpoint of the instance is under the namespace');
  const subjects = info.endpoints.map((e) => e.subject.slice(prefix.length)).sort();
  for (const op of [
    'applications.create', 'applications.get', 'applications.list', 'applications.update',
    'chats.create', 'chats.get', 'chats.list', 'chats.update',
    'messages.create', 'messages.get', 'messages.list', 'messages.update', 'messages.search',
  ]) {
    assert.ok(subjects.includes(op), `endpoint ${op} in ${subjects.join(', ')}`);
  }

  // PING answers with the same instance id
  const pings = [];
  for await (const ping of await services.ping('chat')) pings.push(ping);
  const ping = pings.find((p) => p.id === info.id);
  assert.ok(ping, 'the instance answers $SRV.PING.chat');
  assert.equal(ping.name, 'chat');
  assert.equal(ping.version, info.version);

  // a raw $SRV.PING.chat.<id> request works too, and STATS counts our requests
  const raw = await nc.request(`$SRV.PING.chat.${info.id}`, new Uint8Array(0), { timeout: 15_000 });
  assert.equal(JSON.parse(new TextDecoder().decode(raw.data)).id, info.id);
  await request('applications.get', { token: 'nope' });
  const stats = [];
  for await (const s of await services.stats('chat', info.id)) stats.push(s);
  assert.equal(stats.length, 1);
  const getStats = stats[0]!.endpoints?.find((e) => e.subject === `${prefix}applications.get`);
  // (num_errors stays 0: nats.js only counts errors its handler callback throws synchronously, and ours answers asynchronously)
  assert.ok(getStats && getStats.num_requests >= 1, JSON.stringify(getStats));
});

test('nats: request/reply for applications, chats and messages', async (t) => {
  const { url, request } = await setup(t);

  const app = await request('applications.create', { name: 'over nats' });
  assert.equal(app.status, 200, JSON.stringify(app.body));
  assert.equal(app.body.name, 'over nats');
  assert.match(app.body.token, /^[A-Za-z0-9_-]{22,}$/);
  assertNoInternalIds(app.body);
  const token = app.body.token as string;
  const gotApp = await request('applications.get', { token });
  assert.equal(gotApp.status, 200);
  assert.deepEqual(gotApp.body, app.body);
  assert.deepEqual((await call(url, 'GET', `/applications/${token}`)).body, app.body, 'the same resource as HTTP');

  const renamed = await request('applications.update', { token, name: 'renamed' });
  assert.equal(renamed.body.name, 'renamed');
  assert.equal((await request('applications.get', { token })).body.name, 'renamed');

  const chat = await request('chats.create', { token });
  assert.equal(chat.status, 200, JSON.stringify(chat.body));
  assert.equal(chat.body.number, 1);
  assert.equal(chat.body.name, null);
  const named = await request('chats.create', { token, name: 'named' });
  assert.equal(named.body.number, 2);
  assert.equal(named.body.name, 'named');
  assertNoInternalIds(named.body);
  assert.deepEqual((await request('chats.get', { token, chat_number: 2 })).body, named.body);
  assert.deepEqual((await request('chats.get', { token, number: 2 })).body, named.body, '`number` names the chat too');
  assert.deepEqual((await call(url, 'GET', `/applications/${token}/chats/2`)).body, named.body);
  const chatRenamed = await request('chats.update', { token, chat_number: 2, name: 'renamed chat' });
  assert.equal(chatRenamed.body.name, 'renamed chat');
  const chats = await request('chats.list', { token });
  assert.deepEqual(chats.body.map((c: { number: number }) => c.number), [1, 2]);

  const m1 = await request('messages.create', { token, chat_number: 1, body: 'hello over nats' });
  assert.equal(m1.status, 200, JSON.stringify(m1.body));
  assert.deepEqual(Object.keys(m1.body).sort(), ['body', 'created_at', 'number', 'updated_at']);
  assert.equal(m1.body.number, 1);
  assert.equal(m1.body.body, 'hello over nats');
  const m2 = await request('messages.create', { token, chat_number: 1, body: 'second' });
  assert.equal(m2.body.number, 2);
  const m3 = await request('messages.create', { token, chat_number: 1, body: 'third' });
  assert.equal(m3.body.number, 3);

  const got = await request('messages.get', { token, chat_number: 1, message_number: 1 });
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, m1.body);
  assert.deepEqual((await request('messages.get', { token, chat_number: 1, number: 2 })).body, m2.body);
  assert.deepEqual((await call(url, 'GET', `/applications/${token}/chats/1/messages/1`)).body, m1.body);

  const list = await request('messages.list', { token, chat_number: 1 });
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.map((m: { number: number }) => m.number), [1, 2, 3]);
  assert.equal(list.headers?.get('Chat-Next-After') || undefined, undefined);
  const page1 = await request('messages.list', { token, chat_number: 1, limit: 2 });
  assert.deepEqual(page1.body.map((m: { number: number }) => m.number), [1, 2]);
  const after = page1.headers?.get('Chat-Next-After');
  assert.equal(after, '2');
  const page2 = await request('messages.list', { token, chat_number: 1, limit: 2, after: Number(after) });
  assert.deepEqual(page2.body.map((m: { number: number }) => m.number), [3]);

  const edited = await request('messages.update', { token, chat_number: 1, message_number: 2, body: 'edited over nats' });
  assert.equal(edited.status, 200, JSON.stringify(edited.body));
  assert.equal(edited.body.number, 2);
  assert.equal(edited.body.body, 'edited over nats');
  assert.equal((await request('messages.get', { token, chat_number: 1, message_number: 2 })).body.body, 'edited over nats');
  assert.equal((await call(url, 'GET', `/applications/${token}/chats/1/messages/2`)).body.body, 'edited over nats', 'read-your-writes over HTTP');
});

test('nats: error replies carry Nats-Service-Error-Code and Nats-Service-Error', async (t) => {
  const { request } = await setup(t);
  const token = (await request('applications.create', { name: 'app' })).body.token as string;
  assert.equal((await request('chats.create', { token })).body.number, 1);
  assert.equal((await request('messages.create', { token, chat_number: 1, body: 'one' })).body.number, 1);

  const cases: Array<[string, unknown, number, string]> = [
    // not found
    ['applications.get', { token: 'nope' }, 404, 'not_found'],
    ['applications.get', { token: 'bad.token*' }, 404, 'not_found'],
    ['applications.get', { token: '😀' }, 404, 'not_found'],
    ['applications.update', { token: 'nope', name: 'x' }, 404, 'not_found'],
    ['chats.create', { token: 'nope' }, 404, 'not_found'],
    ['chats.get', { token: 'nope', chat_number: 1 }, 404, 'not_found'],
    ['chats.get', { token, chat_number: 2 }, 404, 'not_found'],
    ['chats.get', { token, chat_number: 4294967296 }, 404, 'not_found'],
    ['chats.update', { token, chat_number: 2, name: 'x' }, 404, 'not_found'],
    ['chats.list', { token: 'nope' }, 404, 'not_found'],
    ['messages.create', { token: 'nope', chat_number: 1, body: 'x' }, 404, 'not_found'],
    ['messages.create', { token, chat_number: 2, body: 'x' }, 404, 'not_found'],
    ['messages.get', { token, chat_number: 1, message_number: 2 }, 404, 'not_found'],
    ['messages.get', { token, chat_number: 2, message_number: 1 }, 404, 'not_found'],
    ['messages.get', { token: 'nope', chat_number: 1, message_number: 1 }, 404, 'not_found'],
    ['messages.list', { token, chat_number: 2 }, 404, 'not_found'],
    ['messages.list', { token: 'nope', chat_number: 1 }, 404, 'not_found'],
    ['messages.update', { token, chat_number: 1, message_number: 2, body: 'x' }, 404, 'not_found'],
    ['messages.update', { token, chat_number: 2, message_number: 1, body: 'x' }, 404, 'not_found'],
    // missing, empty or wrongly typed fields
    ['applications.create', {}, 400, 'validation_error'],
    ['applications.create', { name: '' }, 400, 'validation_error'],
    ['applications.create', { name: 42 }, 400, 'validation_error'],
    ['applications.get', {}, 400, 'validation_error'],
    ['chats.create', {}, 400, 'validation_error'],
    ['chats.create', { token, name: 42 }, 400, 'validation_error'],
    ['chats.create', { token, name: 'x'.repeat(limits.chatNameMax + 1) }, 400, 'validation_error'],
    ['chats.get', { token }, 400, 'validation_error'],
    ['chats.get', { token, chat_number: '1' }, 400, 'validation_error'],
    ['chats.get', { token, chat_number: 1.5 }, 400, 'validation_error'],
    ['chats.get', { token: 42, chat_number: 1 }, 400, 'validation_error'],
    ['messages.create', { token, chat_number: 1 }, 400, 'validation_error'],
    ['messages.create', { token, chat_number: 1, body: '' }, 400, 'validation_error'],
    ['messages.create', { token, chat_number: 1, body: '   ' }, 400, 'validation_error'],
    ['messages.create', { token, chat_number: 1, body: 7 }, 400, 'validation_error'],
    ['messages.create', { token, chat_number: 1, body: 'x'.repeat(limits.messageBodyMax + 1) }, 400, 'validation_error'],
    ['messages.create', { token, body: 'x' }, 400, 'validation_error'],
    ['messages.get', { token, chat_number: 1 }, 400, 'validation_error'],
    ['messages.list', { token, chat_number: 1, limit: 0 }, 400, 'validation_error'],
    ['messages.list', { token, chat_number: 1, limit: '10' }, 400, 'validation_error'],
    ['messages.list', { token, chat_number: 1, after: -1 }, 400, 'validation_error'],
    ['messages.update', { token, chat_number: 1, body: 'x' }, 400, 'validation_error'],
    ['messages.update', { token, chat_number: 1, message_number: 1, body: '' }, 400, 'validation_error'],
    ['messages.search', { token, chat_number: 1 }, 400, 'validation_error'],
    ['messages.search', { token, chat_number: 1, query: '' }, 400, 'validation_error'],
    ['messages.create', undefined, 400, 'validation_error'],
    ['messages.create', '[]', 400, 'validation_error'],
    ['messages.create', 'null', 400, 'validation_error'],
    ['messages.create', '"hello"', 400, 'validation_error'],
    // malformed JSON
    ['messages.create', '{"token":', 400, 'malformed_json'],
    ['applications.create', 'name=x', 400, 'malformed_json'],
    ['chats.get', "{'token':'x'}", 400, 'malformed_json'],
  ];
  for (const [op, payload, status, code] of cases) {
    expectNatsError(await request(op, payload), status, code, `${op} ${JSON.stringify(payload)?.slice(0, 60)}`);
  }
  const tooLong = await request('messages.create', { token, chat_number: 1, body: 'x' }, { 'Idempotency-Key': 'k'.repeat(limits.idempotencyKeyMax + 1) });
  expectNatsError(tooLong, 400, 'validation_error', 'Idempotency-Key too long');

  // none of that created anything
  const list = await request('messages.list', { token, chat_number: 1 });
  assert.deepEqual(list.body.map((m: { number: number; body: string }) => [m.number, m.body]), [[1, 'one']]);
});

test('nats: Idempotency-Key header deduplicates creations', async (t) => {
  const { request } = await setup(t);
  const appKey = randomUUID();
  const app = await request('applications.create', { name: 'once' }, { 'Idempotency-Key': appKey });
  const appAgain = await request('applications.create', { name: 'once' }, { 'Idempotency-Key': appKey });
  assert.equal(appAgain.status, 200);
  assert.equal(appAgain.body.token, app.body.token);
  const token = app.body.token as string;
  assert.notEqual((await request('applications.create', { name: 'once' }, { 'Idempotency-Key': randomUUID() })).body.token, token);

  const chatKey = randomUUID();
  const chats = await Promise.all(Array.from({ length: 5 }, () => request('chats.create', { token, name: 'once' }, { 'Idempotency-Key': chatKey })));
  for (const c of chats) assert.equal(c.body.number, 1, JSON.stringify(c.body));
  assert.equal((await request('chats.create', { token }, { 'Idempotency-Key': randomUUID() })).body.number, 2);

  const key = randomUUID();
  const first = await request('messages.create', { token, chat_number: 1, body: 'once' }, { 'Idempotency-Key': key });
  assert.equal(first.body.number, 1);
  const retries = await Promise.all(Array.from({ length: 10 }, () => request('messages.create', { token, chat_number: 1, body: 'once' }, { 'Idempotency-Key': key })));
  for (const r of retries) {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, first.body);
  }
  // the key belongs to this application and this request: in another chat of it, it is refused (422)
  expectNatsError(await request('messages.create', { token, chat_number: 2, body: 'other chat' }, { 'Idempotency-Key': key }), 422, 'idempotency_key_reused', 'same key, other chat');
  expectNatsError(await request('messages.create', { token, chat_number: 1, body: 'other body' }, { 'Idempotency-Key': key }), 422, 'idempotency_key_reused', 'same key, other body');
  assert.deepEqual((await request('messages.list', { token, chat_number: 2 })).body, []);
  assert.equal((await request('messages.create', { token, chat_number: 1, body: 'new key' }, { 'Idempotency-Key': randomUUID() })).body.number, 2);
  const list = await request('messages.list', { token, chat_number: 1 });
  assert.deepEqual(list.body.map((m: { number: number; body: string }) => [m.number, m.body]), [[1, 'once'], [2, 'new key']]);
});

test('nats: numbers created over NATS and HTTP share one sequence', async (t) => {
  const { url, request } = await setup(t);
  const token = (await call(url, 'POST', '/applications', { name: 'both' })).body.token as string;
  assert.equal((await request('applications.get', { token })).body.name, 'both', 'an HTTP-created application is visible over NATS');

  assert.equal((await request('chats.create', { token })).body.number, 1);
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`)).body.number, 2);
  assert.equal((await request('chats.create', { token, name: 'three' })).body.number, 3);
  assert.deepEqual((await call(url, 'GET', `/applications/${token}/chats`)).body.map((c: { number: number }) => c.number), [1, 2, 3]);

  const http = (body: string): ReturnType<typeof call> => call(url, 'POST', `/applications/${token}/chats/3/messages`, { body });
  const nats = (body: string): Promise<Reply> => request('messages.create', { token, chat_number: 3, body });
  assert.equal((await nats('one')).body.number, 1);
  assert.equal((await http('two')).body.number, 2);
  assert.equal((await nats('three')).body.number, 3);
  // and concurrently, from both sides at once: still 4..13 without gaps or duplicates
  const mixed = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? http(`h${i}`) : nats(`n${i}`))));
  assert.deepEqual(mixed.map((r) => r.body.number as number).sort((a, b) => a - b), [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  const all = await request('messages.list', { token, chat_number: 3 });
  assert.deepEqual(all.body.map((m: { number: number }) => m.number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  assert.equal(all.body[1].body, 'two');
});

test('nats: applications.list is for operators (Authorization header), with sealed cursors', async (t) => {
  const { request } = await setup(t);
  for (let i = 0; i < 3; i++) assert.equal((await request('applications.create', { name: `app ${i}` })).status, 200);
  expectNatsError(await request('applications.list', {}), 401, 'unauthorized', 'no credential');
  expectNatsError(await request('applications.list', { limit: 0 }), 401, 'unauthorized', 'the credential first');
  expectNatsError(await request('applications.list', {}, { Authorization: 'Bearer wrong' }), 403, 'forbidden', 'wrong credential');
  const auth = { Authorization: `Bearer ${TEST_ADMIN_KEY}` };
  const page1 = await request('applications.list', { limit: 2 }, auth);
  assert.equal(page1.status, 200);
  assert.equal(page1.body.length, 2);
  const after = page1.headers?.get('Chat-Next-After');
  assert.ok(after && !page1.body.some((a: { token: string }) => after.includes(a.token)), 'the cursor carries no token');
  const page2 = await request('applications.list', { limit: 2, after }, auth);
  assert.equal(page2.body.length, 1);
  expectNatsError(await request('applications.list', { after: Buffer.from(`a:${page1.body[0].token}`).toString('base64url') }, auth), 400, 'validation_error', 'forged cursor');
  expectNatsError(await request('applications.list', { after: `${after.slice(0, -1)}${after.endsWith('A') ? 'B' : 'A'}` }, auth), 400, 'validation_error', 'altered cursor');
});
