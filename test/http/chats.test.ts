import assert from 'node:assert/strict';
import { test } from 'node:test';
import { limits } from '../../src/domain/limits.js';
import { assertNoInternalIds, expectError, nextLink, rawRequest } from '../support/expect.js';
import { call, startDeployment } from '../support/harness.js';
import { httpOnly } from '../support/inject.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function assertChat(chat: Record<string, unknown>, number: number, name: string | null): void {
  assert.deepEqual(Object.keys(chat).sort(), ['created_at', 'messages_count', 'name', 'number', 'updated_at']);
  assert.equal(chat['number'], number);
  assert.equal(chat['name'], name);
  assert.equal(typeof chat['messages_count'], 'number');
  assert.match(String(chat['created_at']), ISO_UTC);
  assert.match(String(chat['updated_at']), ISO_UTC);
}

async function newApplication(url: string, name = 'app'): Promise<string> {
  const res = await call(url, 'POST', '/applications', { name });
  assert.equal(res.status, 201);
  return res.body.token as string;
}

test('chats: create with every accepted body shape, numbered 1, 2, 3 per application', async (t) => {
  const { url } = await startDeployment(t);
  const a = await newApplication(url, 'A');
  const b = await newApplication(url, 'B');
  const chats = (token: string): string => `/applications/${token}/chats`;

  // every accepted way to say "no name" or "this name", all in application A
  const shapes: Array<[string, () => ReturnType<typeof call>, string | null]> = [
    ['no body, no content type', () => rawRequest(url, 'POST', chats(a), undefined), null],
    ['empty body, JSON content type', () => rawRequest(url, 'POST', chats(a), '', { 'content-type': 'application/json' }), null],
    ['empty body, no content type', () => rawRequest(url, 'POST', chats(a), new Uint8Array(0)), null],
    ['empty body, text content type', () => rawRequest(url, 'POST', chats(a), '', { 'content-type': 'text/plain' }), null],
    ['empty body, form content type (curl -d "")', () => rawRequest(url, 'POST', chats(a), '', { 'content-type': 'application/x-www-form-urlencoded' }), null],
    ['{}', () => call(url, 'POST', chats(a), {}), null],
    ['with a name', () => call(url, 'POST', chats(a), { name: 'general' }), 'general'],
    ['name null', () => call(url, 'POST', chats(a), { name: null }), null],
    ['JSON with charset', () => rawRequest(url, 'POST', chats(a), '{"name":"utf8 ✓"}', { 'content-type': 'application/json; charset=utf-8' }), 'utf8 ✓'],
    ['name of the maximum length (astral characters)', () => call(url, 'POST', chats(a), { name: '😀'.repeat(limits.chatNameMax) }), '😀'.repeat(limits.chatNameMax)],
  ];
  let expected = 0;
  for (const [what, send, name] of shapes) {
    const res = await send();
    expected += 1;
    assert.equal(res.status, 201, `${what}: ${JSON.stringify(res.body)}`);
    assertChat(res.body, expected, name);
    assert.equal(res.body.messages_count, 0);
    assertNoInternalIds(res.body);
  }

  // application B is numbered independently, even when creations interleave with A's
  const b1 = await call(url, 'POST', chats(b));
  const a11 = await call(url, 'POST', chats(a), { name: 'later' });
  const b2 = await call(url, 'POST', chats(b), { name: 'b two' });
  assert.equal(b1.status, 201);
  assert.equal(b1.body.number, 1);
  assert.equal(a11.body.number, expected + 1);
  assert.equal(b2.body.number, 2);

  // get: read-your-writes right after the 201
  for (const [token, created] of [[a, a11], [b, b1], [b, b2]] as const) {
    const got = await call(url, 'GET', `${chats(token)}/${created.body.number}`);
    assert.equal(got.status, 200);
    assertChat(got.body, created.body.number, created.body.name);
    assert.equal(got.body.created_at, created.body.created_at);
  }
  // a leading zero is still the same integer
  assert.equal((await call(url, 'GET', `${chats(b)}/02`)).body.number, 2);
});

test('chats: list ordered by number with limit, after and Link', async (t) => {
  const { url } = await startDeployment(t);
  const token = await newApplication(url);
  const other = await newApplication(url, 'other');
  const base = `/applications/${token}/chats`;
  for (let i = 1; i <= 5; i++) assert.equal((await call(url, 'POST', base, { name: `c${i}` })).body.number, i);
  await call(url, 'POST', `/applications/${other}/chats`, { name: 'not mine' });

  const all = await call(url, 'GET', base);
  assert.equal(all.status, 200);
  assert.deepEqual(all.body.map((c: { number: number }) => c.number), [1, 2, 3, 4, 5]);
  assert.deepEqual(all.body.map((c: { name: string }) => c.name), ['c1', 'c2', 'c3', 'c4', 'c5']);
  assert.equal(all.headers.get('link'), null, 'no next page');
  all.body.forEach((c: Record<string, unknown>, i: number) => assertChat(c, i + 1, `c${i + 1}`));
  assertNoInternalIds(all.body);

  const page1 = await call(url, 'GET', `${base}?limit=2`);
  assert.deepEqual(page1.body.map((c: { number: number }) => c.number), [1, 2]);
  const next1 = nextLink(page1);
  assert.ok(next1);
  assert.ok(next1.startsWith(base), next1);
  const page2 = await call(url, 'GET', next1);
  assert.deepEqual(page2.body.map((c: { number: number }) => c.number), [3, 4]);
  const page3 = await call(url, 'GET', nextLink(page2)!);
  assert.deepEqual(page3.body.map((c: { number: number }) => c.number), [5]);
  assert.equal(nextLink(page3), undefined);

  // exactly `limit` items left: no dangling next page
  const exact = await call(url, 'GET', `${base}?limit=5`);
  assert.equal(exact.body.length, 5);
  assert.equal(nextLink(exact), undefined);

  assert.deepEqual((await call(url, 'GET', `${base}?after=3`)).body.map((c: { number: number }) => c.number), [4, 5]);
  assert.deepEqual((await call(url, 'GET', `${base}?after=1&limit=1`)).body.map((c: { number: number }) => c.number), [2]);
  assert.deepEqual((await call(url, 'GET', `${base}?after=5`)).body, []);
  assert.deepEqual((await call(url, 'GET', `${base}?after=99999`)).body, []);
  assert.equal((await call(url, 'GET', `${base}?limit=${limits.listLimitMax}`)).body.length, 5);
  assert.equal((await call(url, 'GET', `${base}?after=0`)).body.length, 5);

  // an application without chats lists an empty array
  const empty = await newApplication(url, 'empty');
  const none = await call(url, 'GET', `/applications/${empty}/chats`);
  assert.equal(none.status, 200);
  assert.deepEqual(none.body, []);
});

test('chats: rename via PUT and PATCH, read-your-writes', async (t) => {
  const { url } = await startDeployment(t);
  const token = await newApplication(url);
  const base = `/applications/${token}/chats`;
  const created = await call(url, 'POST', base, { name: 'before' });
  const path = `${base}/${created.body.number}`;
  assert.equal((await call(url, 'GET', path)).body.name, 'before', 'read once so that a cached copy exists');

  const put = await call(url, 'PUT', path, { name: 'after put' });
  assert.equal(put.status, 200);
  assertChat(put.body, 1, 'after put');
  assert.equal(put.body.created_at, created.body.created_at);
  assert.ok(put.body.updated_at >= created.body.updated_at);
  assert.equal((await call(url, 'GET', path)).body.name, 'after put');

  const patch = await call(url, 'PATCH', path, { name: 'after patch' });
  assert.equal(patch.status, 200);
  assertChat(patch.body, 1, 'after patch');
  assert.equal((await call(url, 'GET', path)).body.name, 'after patch');

  const cleared = await call(url, 'PUT', path, { name: null });
  assert.equal(cleared.status, 200);
  assert.equal(cleared.body.name, null);
  assert.equal((await call(url, 'GET', path)).body.name, null);

  // renaming keeps the number and does not create a chat
  const list = await call(url, 'GET', base);
  assert.deepEqual(list.body.map((c: { number: number }) => c.number), [1]);
  assert.equal(list.body[0].name, null);
});

test('chats: errors the service decides (404); failed requests change nothing', async (t) => {
  const { url } = await startDeployment(t);
  const token = await newApplication(url);
  const base = `/applications/${token}/chats`;
  assert.equal((await call(url, 'POST', base, { name: 'one' })).status, 201);

  // an unknown token is a 404 on every chat route, whatever it looks like
  for (const unknown of ['nope', 'bad.token*', 'A'.repeat(24), 'x'.repeat(65), 'x'.repeat(300), '%00', '%F0%9F%98%80', 'a%20b']) {
    const p = `/applications/${unknown}/chats`;
    for (const [method, path, body] of [
      ['POST', p, {}], ['POST', p, undefined], ['GET', p, undefined], ['GET', `${p}/1`, undefined],
      ['PUT', `${p}/1`, { name: 'x' }], ['PATCH', `${p}/1`, { name: 'x' }],
    ] as const) {
      expectError(await call(url, method, path, body), 404, 'not_found', `${method} ${path.slice(0, 60)}`);
    }
  }

  const cases: Array<[string, string, unknown, number, string, Record<string, string>?]> = [
    // unknown chat, and numbers that cannot exist
    ['GET', `${base}/2`, undefined, 404, 'not_found'],
    ['PUT', `${base}/2`, { name: 'x' }, 404, 'not_found'],
    ['PATCH', `${base}/2`, { name: 'x' }, 404, 'not_found'],
    ['GET', `${base}/0`, undefined, 404, 'not_found'],
    ['PUT', `${base}/0`, { name: 'x' }, 404, 'not_found'],
    ['GET', `${base}/4294967296`, undefined, 404, 'not_found'],
  ];
  for (const [method, path, body, status, code, headers] of cases) {
    const res = await call(url, method, path, body, headers);
    expectError(res, status, code, `${method} ${path} ${JSON.stringify(body)?.slice(0, 40)}`);
  }

  // an integer too long to be a number at all may be a 400 or a 404, but is never a 5xx
  for (const method of ['GET', 'PUT'] as const) {
    const res = await call(url, method, `${base}/${'9'.repeat(40)}`, method === 'PUT' ? { name: 'x' } : undefined);
    assert.ok(res.status === 400 || res.status === 404, `${method} 40 digits → ${res.status}`);
    expectError(res, res.status);
  }

  // a body that is not JSON, sent without any content type, is a 415 too
  expectError(await rawRequest(url, 'POST', base, new TextEncoder().encode('{"name":"x"}')), 415, 'unsupported_media_type');

  // none of the failed requests created or changed anything
  const list = await call(url, 'GET', base);
  assert.deepEqual(list.body.map((c: { number: number; name: string }) => [c.number, c.name]), [[1, 'one']]);
});

test('chats: validation errors are the HTTP layer\'s alone (app.inject, no process)', async (t) => {
  const http = await httpOnly(t);
  const token = 'u8GkqB3mXq5V0sYxJ2pL9w';
  const base = `/applications/${token}/chats`;
  const cases: Array<[string, string, unknown, number, string, Record<string, string>?]> = [
    // beyond 2^53-1 a number cannot be read exactly: 400, never a rounded lookup (issue 8)
    ['GET', `${base}/9999999999999999`, undefined, 400, 'validation_error'],
    ['PATCH', `${base}/9999999999999999`, { name: 'x' }, 400, 'validation_error'],
    // non-integer path numbers
    ['GET', `${base}/abc`, undefined, 400, 'validation_error'],
    ['GET', `${base}/1.5`, undefined, 400, 'validation_error'],
    ['GET', `${base}/1e3`, undefined, 400, 'validation_error'],
    ['GET', `${base}/0x1`, undefined, 400, 'validation_error'],
    ['GET', `${base}/%201`, undefined, 400, 'validation_error'],
    ['PUT', `${base}/abc`, { name: 'x' }, 400, 'validation_error'],
    ['PATCH', `${base}/1.0`, { name: 'x' }, 400, 'validation_error'],
    // list parameters
    ['GET', `${base}?limit=0`, undefined, 400, 'validation_error'],
    ['GET', `${base}?limit=${limits.listLimitMax + 1}`, undefined, 400, 'validation_error'],
    ['GET', `${base}?limit=-1`, undefined, 400, 'validation_error'],
    ['GET', `${base}?limit=abc`, undefined, 400, 'validation_error'],
    ['GET', `${base}?limit=1.5`, undefined, 400, 'validation_error'],
    ['GET', `${base}?limit=`, undefined, 400, 'validation_error'],
    ['GET', `${base}?limit=1&limit=2`, undefined, 400, 'validation_error'],
    ['GET', `${base}?after=-1`, undefined, 400, 'validation_error'],
    ['GET', `${base}?after=abc`, undefined, 400, 'validation_error'],
    ['GET', `${base}?after=1.5`, undefined, 400, 'validation_error'],
    ['GET', `${base}?after=`, undefined, 400, 'validation_error'],
    // wrong types and shapes
    ['POST', base, { name: 42 }, 400, 'validation_error'],
    ['POST', base, { name: true }, 400, 'validation_error'],
    ['POST', base, { name: ['x'] }, 400, 'validation_error'],
    ['POST', base, { name: { first: 'x' } }, 400, 'validation_error'],
    ['POST', base, '[]', 400, 'validation_error'],
    ['POST', base, '"general"', 400, 'validation_error'],
    ['POST', base, '42', 400, 'validation_error'],
    ['PUT', `${base}/1`, {}, 400, 'validation_error'],
    ['PUT', `${base}/1`, { name: 42 }, 400, 'validation_error'],
    ['PATCH', `${base}/1`, { name: false }, 400, 'validation_error'],
    ['PUT', `${base}/1`, '[]', 400, 'validation_error'],
    ['PUT', `${base}/1`, undefined, 400, 'validation_error'],
    // too long
    ['POST', base, { name: 'x'.repeat(limits.chatNameMax + 1) }, 400, 'validation_error'],
    ['PUT', `${base}/1`, { name: 'x'.repeat(limits.chatNameMax + 1) }, 400, 'validation_error'],
    ['POST', base, { name: 'x'.repeat(2_000_000) }, 413, 'payload_too_large'],
    // not JSON
    ['POST', base, 'name=x', 415, 'unsupported_media_type', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['POST', base, '{"name":"x"}', 415, 'unsupported_media_type', { 'content-type': 'text/plain' }],
    ['PUT', `${base}/1`, '{"name":"x"}', 415, 'unsupported_media_type', { 'content-type': 'text/plain' }],
    ['POST', base, '{"name":', 400, 'malformed_json'],
    ['POST', base, '{name: "x"}', 400, 'malformed_json'],
    ['PATCH', `${base}/1`, '{"name":"x",}', 400, 'malformed_json'],
    // idempotency key
    ['POST', base, {}, 400, 'validation_error', { 'idempotency-key': 'k'.repeat(limits.idempotencyKeyMax + 1) }],
  ];
  for (const [method, path, body, status, code, headers] of cases) {
    expectError(await http.call(method, path, body, headers), status, code, `${method} ${path.slice(0, 100)} ${JSON.stringify(body)?.slice(0, 40)}`);
  }
  assert.deepEqual(http.calls, [], 'no operation was asked');
});
