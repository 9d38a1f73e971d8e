import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { limits } from '../../src/domain/limits.js';
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

  const all = await call(url, 'GET', '/applications');
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

test('idempotency: the same key on a different path creates a separate resource', async (t) => {
  const { url } = await startDeployment(t);
  const k = 'shared-key';
  const a = await call(url, 'POST', '/applications', { name: 'A' }, key(k));
  const b = await call(url, 'POST', '/applications', { name: 'B' });
  assert.equal(a.status, 201);
  const chatsA = `/applications/${a.body.token}/chats`;
  const chatsB = `/applications/${b.body.token}/chats`;

  // the key already used on /applications creates a chat in A, and then one in B
  const chatA = await call(url, 'POST', chatsA, { name: 'in A' }, key(k));
  const chatB = await call(url, 'POST', chatsB, { name: 'in B' }, key(k));
  assert.equal(chatA.status, 201);
  assert.equal(chatB.status, 201);
  assert.equal(chatA.body.name, 'in A');
  assert.equal(chatB.body.name, 'in B');
  assert.equal(chatA.body.number, 1);
  assert.equal(chatB.body.number, 1);
  assert.equal((await call(url, 'POST', chatsA, {}, key(randomUUID()))).body.number, 2);

  // ... and a message in chat 1 and one in chat 2 of A
  const m1 = await call(url, 'POST', `${chatsA}/1/messages`, { body: 'in chat 1' }, key(k));
  const m2 = await call(url, 'POST', `${chatsA}/2/messages`, { body: 'in chat 2' }, key(k));
  const mB = await call(url, 'POST', `${chatsB}/1/messages`, { body: 'in B chat 1' }, key(k));
  for (const m of [m1, m2, mB]) {
    assert.equal(m.status, 201);
    assert.equal(m.body.number, 1);
  }
  assert.equal((await call(url, 'GET', `${chatsA}/1/messages/1`)).body.body, 'in chat 1');
  assert.equal((await call(url, 'GET', `${chatsA}/2/messages/1`)).body.body, 'in chat 2');
  assert.equal((await call(url, 'GET', `${chatsB}/1/messages/1`)).body.body, 'in B chat 1');

  // retrying each one still answers its own resource
  assert.equal((await call(url, 'POST', '/applications', { name: 'A' }, key(k))).body.token, a.body.token);
  assert.equal((await call(url, 'POST', chatsB, { name: 'in B' }, key(k))).body.name, 'in B');
  assert.equal((await call(url, 'POST', `${chatsA}/2/messages`, { body: 'in chat 2' }, key(k))).body.body, 'in chat 2');
  assert.equal((await call(url, 'GET', '/applications')).body.length, 2);
});

test('idempotency: concurrent retries with the same key create exactly one resource', async (t) => {
  const { url } = await startDeployment(t);
  const k = randomUUID();
  const apps = await Promise.all(Array.from({ length: 10 }, () => call(url, 'POST', '/applications', { name: 'racy' }, key(k))));
  for (const res of apps) {
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.token, apps[0]!.body.token);
  }
  assert.equal((await call(url, 'GET', '/applications')).body.length, 1);
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
  assert.equal((await call(url, 'GET', '/applications')).body.length, 1);
  assert.deepEqual(numbers((await call(url, 'GET', `/applications/${token}/chats`)).body), [1]);
  assert.deepEqual((await call(url, 'GET', `/applications/${token}/chats/1/messages`)).body, []);

  // a first attempt that failed fails the same way when retried with its key
  const missing = `/applications/${token}/chats/9/messages`;
  expectError(await call(url, 'POST', missing, { body: 'x' }, key('fails')), 404, 'not_found');
  expectError(await call(url, 'POST', missing, { body: 'x' }, key('fails')), 404, 'not_found');
});
