import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { connect, headers } from 'nats';
import { limits } from '../../src/domain/limits.js';
import { names } from '../../src/protocol/subjects.js';
import { NATS_URL, operator, uniqueName } from '../support/env.js';
import { expectError } from '../support/expect.js';
import { call, startDeployment } from '../support/harness.js';

const key = (k: string): Record<string, string> => ({ 'idempotency-key': k });
const numbers = (items: Array<{ number: number }>): number[] => items.map((m) => m.number);

test('idempotency: POST /applications retried with the same key returns the same application', async (t) => {
  const { url } = await startDeployment(t);
  const k = randomUUID();
  const first = await call(url, 'POST', '/applications', { name: 'once' }, key(k));
  assert.equal(first.status, 201);
  const retry = await call(url, 'POST', '/applications', { name: 'once' }, key(k));
  assert.equal(retry.status, first.status);
  assert.deepEqual(retry.body, first.body);

  const other = await call(url, 'POST', '/applications', { name: 'once' }, key(randomUUID()));
  assert.equal(other.status, 201);
  assert.notEqual(other.body.token, first.body.token);
  const unkeyed = await call(url, 'POST', '/applications', { name: 'once' });
  assert.notEqual(unkeyed.body.token, first.body.token);

  const longest = await call(url, 'POST', '/applications', { name: 'k128' }, key('k'.repeat(limits.idempotencyKeyMax)));
  assert.equal(longest.status, 201);
  assert.equal((await call(url, 'POST', '/applications', { name: 'k128' }, key('k'.repeat(limits.idempotencyKeyMax)))).body.token, longest.body.token);

  const all = await call(url, 'GET', '/applications', undefined, operator);
  assert.equal(all.body.length, 4, 'one application per distinct key, plus the unkeyed one');
  assert.equal(all.body.filter((a: { token: string }) => a.token === first.body.token).length, 1);
});

test('idempotency: POST chats and messages retried with the same key return the same number', async (t) => {
  const { url } = await startDeployment(t);
  const token = (await call(url, 'POST', '/applications', { name: 'app' })).body.token as string;
  const chats = `/applications/${token}/chats`;

  const k = randomUUID();
  const chat = await call(url, 'POST', chats, { name: 'general' }, key(k));
  assert.equal(chat.status, 201);
  assert.equal(chat.body.number, 1);
  for (let i = 0; i < 3; i++) {
    const retry = await call(url, 'POST', chats, { name: 'general' }, key(k));
    assert.equal(retry.status, 201);
    assert.equal(retry.body.number, 1);
    assert.equal(retry.body.name, 'general');
    assert.equal(retry.body.created_at, chat.body.created_at);
  }
  assert.equal((await call(url, 'POST', chats, { name: 'general' }, key(randomUUID()))).body.number, 2, 'a different key creates a new chat');
  assert.equal((await call(url, 'POST', chats)).body.number, 3, 'no key, a new chat; retries consumed no number');
  assert.deepEqual(numbers((await call(url, 'GET', chats)).body), [1, 2, 3]);

  const messages = `${chats}/1/messages`;
  const mk = randomUUID();
  const message = await call(url, 'POST', messages, { body: 'hello' }, key(mk));
  assert.equal(message.status, 201);
  assert.equal(message.body.number, 1);
  const retry = await call(url, 'POST', messages, { body: 'hello' }, key(mk));
  assert.equal(retry.status, 201);
  assert.deepEqual(retry.body, message.body);
  const second = await call(url, 'POST', messages, { body: 'hello' }, key(randomUUID()));
  assert.equal(second.body.number, 2, 'a different key creates a new message');
  assert.equal((await call(url, 'POST', messages, { body: 'hello' }, key(mk))).body.number, 1, 'the first key still maps to message 1');
  assert.equal((await call(url, 'POST', messages, { body: 'unkeyed' })).body.number, 3);
  const list = await call(url, 'GET', messages);
  assert.deepEqual(numbers(list.body), [1, 2, 3]);
});

test('idempotency: keys are scoped per application; the same key for another request of the same one is a 422', async (t) => {
  const { url } = await startDeployment(t);
  const k = 'shared-key';
  const a = await call(url, 'POST', '/applications', { name: 'A' }, key(k));
  const b = await call(url, 'POST', '/applications', { name: 'B' });
  assert.equal(a.status, 201);
  const chatsA = `/applications/${a.body.token}/chats`;
  const chatsB = `/applications/${b.body.token}/chats`;

  // the key already used on /applications (no tenant) creates a chat in A, and then one in B: other scopes
  const chatA = await call(url, 'POST', chatsA, { name: 'in A' }, key(k));
  const chatB = await call(url, 'POST', chatsB, { name: 'in B' }, key(k));
  assert.equal(chatA.status, 201);
  assert.equal(chatB.status, 201);
  assert.equal(chatA.body.name, 'in A');
  assert.equal(chatB.body.name, 'in B');
  assert.equal(chatA.body.number, 1);
  assert.equal(chatB.body.number, 1);
  assert.equal((await call(url, 'POST', chatsA, {}, key(randomUUID()))).body.number, 2);

  // within A the key is bound to "create chat 'in A'": any other request with it is refused and does nothing
  for (const [method, path, body] of [
    ['POST', chatsA, { name: 'another name' }],
    ['POST', chatsA, {}],
    ['POST', `${chatsA}/1/messages`, { body: 'in chat 1' }],
    ['PUT', `${chatsA}/1`, { name: 'in A' }],
    ['PATCH', `/applications/${a.body.token}`, { name: 'A' }],
  ] as const) {
    const res = await call(url, method, path, body, key(k));
    expectError(res, 422, 'idempotency_key_reused', `${method} ${path}`);
    assert.match(res.body.message, /Idempotency-Key/);
  }
  assert.deepEqual(numbers((await call(url, 'GET', chatsA)).body), [1, 2]);
  assert.deepEqual((await call(url, 'GET', `${chatsA}/1/messages`)).body, []);
  assert.equal((await call(url, 'GET', `${chatsA}/1`)).body.name, 'in A');

  // the same path with numbers written differently is the same request
  const m = await call(url, 'POST', `${chatsA}/1/messages`, { body: 'hi' }, key('m'));
  assert.equal((await call(url, 'POST', `${chatsA}/01/messages`, { body: 'hi' }, key('m'))).body.number, m.body.number);

  // retrying each one still answers its own resource
  assert.equal((await call(url, 'POST', '/applications', { name: 'A' }, key(k))).body.token, a.body.token);
  assert.equal((await call(url, 'POST', chatsB, { name: 'in B' }, key(k))).body.name, 'in B');
  assert.equal((await call(url, 'POST', chatsA, { name: 'in A' }, key(k))).body.number, 1);
  assert.equal((await call(url, 'GET', '/applications', undefined, operator)).body.length, 2);
});

test('idempotency: POST /applications never hands an application to a request with another body (422)', async (t) => {
  const { url, namespace } = await startDeployment(t);
  const first = await call(url, 'POST', '/applications', { name: 'first client' }, key('1'));
  assert.equal(first.status, 201);
  const second = await call(url, 'POST', '/applications', { name: 'second client' }, key('1'));
  expectError(second, 422, 'idempotency_key_reused', 'same key, other name');
  assert.ok(!JSON.stringify(second.body).includes(first.body.token), 'the first application\'s token is not in the refusal');
  // body fields in another order are the same request
  assert.equal((await call(url, 'POST', '/applications', '{"name":"first client"}', key('1'))).body.token, first.body.token);
  assert.equal((await call(url, 'GET', '/applications', undefined, operator)).body.length, 1);

  // the same over NATS (the key is bound to the HTTP request it came with: a NATS request is another one)
  const nc = await connect({ servers: NATS_URL });
  t.after(() => nc.close());
  const request = async (name: string, k: string): Promise<{ code: string | undefined; body: any }> => { // eslint-disable-line @typescript-eslint/no-explicit-any -- asserted field by field
    const h = headers();
    h.set('Idempotency-Key', k);
    const msg = await nc.request(`${namespace}.api.v1.applications.create`, new TextEncoder().encode(JSON.stringify({ name })), { timeout: 15_000, headers: h });
    return { code: msg.headers?.get('Nats-Service-Error-Code') || undefined, body: JSON.parse(new TextDecoder().decode(msg.data)) };
  };
  const n1 = await request('nats first', 'n');
  assert.equal(n1.code, undefined);
  const n2 = await request('nats second', 'n');
  assert.equal(n2.code, '422');
  assert.equal(n2.body.error, 'idempotency_key_reused');
  assert.equal((await request('nats first', 'n')).body.token, n1.body.token);
  assert.equal((await request('first client', '1')).code, '422', 'an HTTP request\'s key used over NATS');
});

test('idempotency: a PUT/PATCH retried after an intervening write returns its first outcome and is not applied again', async (t) => {
  const { url } = await startDeployment(t);
  const token = (await call(url, 'POST', '/applications', { name: 'app' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`, { name: 'c' })).status, 201);
  assert.equal((await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: 'm' })).status, 201);

  const cases = [
    { path: `/applications/${token}/chats/1`, field: 'name', method: 'PUT' },
    { path: `/applications/${token}/chats/1/messages/1`, field: 'body', method: 'PUT' },
    { path: `/applications/${token}/chats/1/messages/1`, field: 'body', method: 'PATCH' },
    { path: `/applications/${token}`, field: 'name', method: 'PATCH' },
    { path: `/applications/${token}`, field: 'name', method: 'PUT' },
  ];
  for (const { path, field, method } of cases) {
    const k = randomUUID();
    const first = await call(url, method, path, { [field]: 'first' }, key(k));
    assert.equal(first.status, 200, `${method} ${path}`);
    assert.equal(first.body[field], 'first');
    const between = await call(url, 'PUT', path, { [field]: 'someone else' });
    assert.equal(between.body[field], 'someone else');
    const retry = await call(url, method, path, { [field]: 'first' }, key(k));
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body, first.body, `${method} ${path}: the retry answers the first outcome`);
    assert.equal((await call(url, 'GET', path)).body[field], 'someone else', `${method} ${path}: the retry did not write again`);
    expectError(await call(url, method, path, { [field]: 'changed' }, key(k)), 422, 'idempotency_key_reused', `${method} ${path} other body`);
    assert.equal((await call(url, 'GET', path)).body[field], 'someone else');
  }
  // PUT and PATCH are different methods: a key first used with one is refused with the other
  const k = randomUUID();
  assert.equal((await call(url, 'PUT', `/applications/${token}`, { name: 'via put' }, key(k))).status, 200);
  expectError(await call(url, 'PATCH', `/applications/${token}`, { name: 'via put' }, key(k)), 422, 'idempotency_key_reused');
});

test('idempotency: keys are stored durably for IDEMPOTENCY_TTL_SECONDS, across api restarts', async (t) => {
  const namespace = uniqueName();
  const first = await startDeployment(t, { namespace, keep: true, env: { IDEMPOTENCY_TTL_SECONDS: '90000' } });
  const n = names(namespace);
  const nc = await connect({ servers: NATS_URL });
  t.after(() => nc.close());
  const info = await (await nc.jetstreamManager()).streams.info(`KV_${n.idempotencyBucket}`);
  assert.equal(info.config.max_age, 90_000 * 1_000_000_000, 'entries expire after IDEMPOTENCY_TTL_SECONDS');
  assert.equal(info.config.storage, 'file');

  const token = (await call(first.url, 'POST', '/applications', { name: 'app' })).body.token as string;
  const path = `/applications/${token}`;
  const k = randomUUID();
  const renamed = await call(first.url, 'PUT', path, { name: 'first' }, key(k));
  assert.equal(renamed.status, 200);
  await first.runtime.stop();

  // a new api process (the in-memory state of the first is gone); the stored key still binds and replays
  const second = await startDeployment(t, { namespace, env: { IDEMPOTENCY_TTL_SECONDS: '86400' } });
  assert.equal((await call(second.url, 'PUT', path, { name: 'later' })).status, 200);
  assert.deepEqual((await call(second.url, 'PUT', path, { name: 'first' }, key(k))).body, renamed.body);
  assert.equal((await call(second.url, 'GET', path)).body.name, 'later');
  expectError(await call(second.url, 'PUT', path, { name: 'other' }, key(k)), 422, 'idempotency_key_reused');
  const updated = await (await nc.jetstreamManager()).streams.info(`KV_${n.idempotencyBucket}`);
  assert.equal(updated.config.max_age, 86_400 * 1_000_000_000, 'a changed IDEMPOTENCY_TTL_SECONDS applies to the bucket');
});

test('idempotency: an update whose first attempt timed out is not applied again by its retry after another write', async (t) => {
  const namespace = uniqueName();
  const api = await startDeployment(t, { namespace, keep: true, overrides: { roles: ['api'], commandTimeoutMs: 1500 } });
  let actors = await startDeployment(t, { namespace, keep: true, overrides: { roles: ['actors'] } });
  const url = api.url;
  const token = (await call(url, 'POST', '/applications', { name: 'app' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`, { name: 'c' })).status, 201);
  const path = `/applications/${token}/chats/1`;

  // no actor: the keyed rename waits in the commands stream and the request times out
  await actors.runtime.stop();
  const k = randomUUID();
  const timedOut = await call(url, 'PUT', path, { name: 'first' }, key(k));
  expectError(timedOut, 503, 'timeout');
  assert.ok(timedOut.headers.get('retry-after'));

  // actors again: the first attempt is applied, then someone else's rename
  actors = await startDeployment(t, { namespace, overrides: { roles: ['actors'] } });
  const other = await call(url, 'PUT', path, { name: 'someone else' });
  assert.equal(other.status, 200);
  assert.equal(other.body.name, 'someone else');

  // the retry learns the outcome without renaming the chat back
  const retry = await call(url, 'PUT', path, { name: 'first' }, key(k));
  assert.equal(retry.status, 200, JSON.stringify(retry.body));
  assert.equal((await call(url, 'GET', path)).body.name, 'someone else', 'the retry did not apply the rename a second time');
  // from now on the outcome is stored: the same answer again
  assert.deepEqual((await call(url, 'PUT', path, { name: 'first' }, key(k))).body, retry.body);
});

test('idempotency: concurrent retries with the same key create exactly one resource', async (t) => {
  const { url } = await startDeployment(t);
  const k = randomUUID();
  const apps = await Promise.all(Array.from({ length: 10 }, () => call(url, 'POST', '/applications', { name: 'racy' }, key(k))));
  for (const res of apps) {
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.token, apps[0]!.body.token);
  }
  assert.equal((await call(url, 'GET', '/applications', undefined, operator)).body.length, 1);
  const token = apps[0]!.body.token as string;
  const chats = `/applications/${token}/chats`;

  const ck = randomUUID();
  const createdChats = await Promise.all(Array.from({ length: 10 }, () => call(url, 'POST', chats, { name: 'racy' }, key(ck))));
  for (const res of createdChats) {
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.number, 1);
  }
  assert.deepEqual(numbers((await call(url, 'GET', chats)).body), [1]);

  const messages = `${chats}/1/messages`;
  const mk = randomUUID();
  const createdMessages = await Promise.all(Array.from({ length: 10 }, () => call(url, 'POST', messages, { body: 'once' }, key(mk))));
  for (const res of createdMessages) {
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.number, 1);
    assert.equal(res.body.body, 'once');
  }
  const list = await call(url, 'GET', messages);
  assert.equal(list.body.length, 1, `exactly one message: ${JSON.stringify(list.body)}`);

  // two keys racing, five retries each: two messages, numbered 2 and 3, no gaps
  const [k1, k2] = [randomUUID(), randomUUID()];
  const mixed = await Promise.all(Array.from({ length: 10 }, (_, i) => call(url, 'POST', messages, { body: i % 2 ? 'odd' : 'even' }, key(i % 2 ? k1 : k2))));
  const byKey = new Map<string, Set<number>>();
  mixed.forEach((res, i) => {
    assert.equal(res.status, 201);
    const set = byKey.get(i % 2 ? k1 : k2) ?? new Set<number>();
    set.add(res.body.number);
    byKey.set(i % 2 ? k1 : k2, set);
  });
  assert.equal(byKey.get(k1)!.size, 1);
  assert.equal(byKey.get(k2)!.size, 1);
  assert.deepEqual([...byKey.get(k1)!, ...byKey.get(k2)!].sort((a, b) => a - b), [2, 3]);
  assert.deepEqual(numbers((await call(url, 'GET', messages)).body), [1, 2, 3]);
});

test('idempotency: a key longer than 128 characters, or empty, is a 400 and creates nothing', async (t) => {
  const { url } = await startDeployment(t);
  const token = (await call(url, 'POST', '/applications', { name: 'app' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`)).status, 201);
  const tooLong = key('k'.repeat(limits.idempotencyKeyMax + 1));
  for (const [path, body] of [
    ['/applications', { name: 'x' }],
    [`/applications/${token}/chats`, {}],
    [`/applications/${token}/chats/1/messages`, { body: 'x' }],
  ] as const) {
    expectError(await call(url, 'POST', path, body, tooLong), 400, 'validation_error', path);
    expectError(await call(url, 'POST', path, body, key('')), 400, 'validation_error', `${path} (empty key)`);
  }
  assert.equal((await call(url, 'GET', '/applications', undefined, operator)).body.length, 1);
  assert.deepEqual(numbers((await call(url, 'GET', `/applications/${token}/chats`)).body), [1]);
  assert.deepEqual((await call(url, 'GET', `/applications/${token}/chats/1/messages`)).body, []);

  // a first attempt that failed fails the same way when retried with its key
  const missing = `/applications/${token}/chats/9/messages`;
  expectError(await call(url, 'POST', missing, { body: 'x' }, key('fails')), 404, 'not_found');
  expectError(await call(url, 'POST', missing, { body: 'x' }, key('fails')), 404, 'not_found');
});
