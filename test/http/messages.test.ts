import assert from 'node:assert/strict';
import { test } from 'node:test';
import { limits } from '../../src/domain/limits.js';
import { assertNoInternalIds, expectError, nextLink, rawRequest } from '../support/expect.js';
import { call, startDeployment } from '../support/harness.js';
import { httpOnly } from '../support/inject.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function assertMessage(message: Record<string, unknown>, number: number, body: string): void {
  assert.deepEqual(Object.keys(message).sort(), ['body', 'created_at', 'number', 'updated_at']);
  assert.equal(message['number'], number);
  assert.equal(message['body'], body);
  assert.match(String(message['created_at']), ISO_UTC);
  assert.match(String(message['updated_at']), ISO_UTC);
}

/** An application with `chats` chats; returns its token. */
async function setup(url: string, chats = 1): Promise<string> {
  const app = await call(url, 'POST', '/applications', { name: 'app' });
  assert.equal(app.status, 201);
  for (let i = 1; i <= chats; i++) assert.equal((await call(url, 'POST', `/applications/${app.body.token}/chats`)).body.number, i);
  return app.body.token as string;
}

const numbers = (items: Array<{ number: number }>): number[] => items.map((m) => m.number);

test('messages: create numbered 1..N per chat, get, bodies kept verbatim', async (t) => {
  const { url } = await startDeployment(t);
  const token = await setup(url, 2);
  const chat1 = `/applications/${token}/chats/1/messages`;
  const chat2 = `/applications/${token}/chats/2/messages`;

  const bodies = [
    'hello',
    '  leading and trailing spaces are kept  ',
    'line 1\nline 2\ttab',
    'ünïcödé — 中文 — 😀 — \u0000 nul',
    '%_\\*?~:()[]{}"\' AND OR',
    'x'.repeat(limits.messageBodyMax),
    '😀'.repeat(limits.messageBodyMax), // the limit counts characters, astral ones included
  ];
  for (const [i, body] of bodies.entries()) {
    const res = await call(url, 'POST', chat1, { body });
    assert.equal(res.status, 201, `${body.slice(0, 20)}: ${JSON.stringify(res.body)?.slice(0, 200)}`);
    assertMessage(res.body, i + 1, body);
    assertNoInternalIds(res.body);
    const got = await call(url, 'GET', `${chat1}/${i + 1}`);
    assert.equal(got.status, 200, 'read-your-writes right after the 201');
    assert.deepEqual(got.body, res.body);
  }

  // another chat numbers its messages independently, interleaved or not
  assert.equal((await call(url, 'POST', chat2, { body: 'other chat' })).body.number, 1);
  assert.equal((await call(url, 'POST', chat1, { body: 'back to chat 1' })).body.number, bodies.length + 1);
  assert.equal((await call(url, 'POST', chat2, { body: 'other chat again' })).body.number, 2);
  assert.equal((await call(url, 'GET', `${chat2}/2`)).body.body, 'other chat again');
  assert.equal((await call(url, 'GET', `${chat1}/01`)).body.body, 'hello');
  // extra fields in a body are not an error and change nothing
  const extra = await call(url, 'POST', chat2, { body: 'with extra', number: 77, chat_number: 9 });
  assert.equal(extra.status, 201);
  assertMessage(extra.body, 3, 'with extra');
});

test('messages: list ordered by number with limit, after and Link', async (t) => {
  const { url } = await startDeployment(t);
  const token = await setup(url, 2);
  const base = `/applications/${token}/chats/1/messages`;
  for (let i = 1; i <= 5; i++) assert.equal((await call(url, 'POST', base, { body: `m${i}` })).body.number, i);
  await call(url, 'POST', `/applications/${token}/chats/2/messages`, { body: 'in chat 2' });

  const all = await call(url, 'GET', base);
  assert.equal(all.status, 200);
  assert.deepEqual(numbers(all.body), [1, 2, 3, 4, 5]);
  assert.deepEqual(all.body.map((m: { body: string }) => m.body), ['m1', 'm2', 'm3', 'm4', 'm5']);
  all.body.forEach((m: Record<string, unknown>, i: number) => assertMessage(m, i + 1, `m${i + 1}`));
  assert.equal(all.headers.get('link'), null);
  assertNoInternalIds(all.body);

  const page1 = await call(url, 'GET', `${base}?limit=2`);
  assert.deepEqual(numbers(page1.body), [1, 2]);
  const page2 = await call(url, 'GET', nextLink(page1)!);
  assert.deepEqual(numbers(page2.body), [3, 4]);
  const page3 = await call(url, 'GET', nextLink(page2)!);
  assert.deepEqual(numbers(page3.body), [5]);
  assert.equal(nextLink(page3), undefined);
  assert.equal(nextLink(await call(url, 'GET', `${base}?limit=5`)), undefined);

  assert.deepEqual(numbers((await call(url, 'GET', `${base}?after=2&limit=2`)).body), [3, 4]);
  assert.deepEqual((await call(url, 'GET', `${base}?after=5`)).body, []);
  assert.deepEqual((await call(url, 'GET', `${base}?limit=${limits.listLimitMax}`)).body.length, 5);

  // a chat without messages lists an empty array
  const token2 = await setup(url, 1);
  const none = await call(url, 'GET', `/applications/${token2}/chats/1/messages`);
  assert.equal(none.status, 200);
  assert.deepEqual(none.body, []);
});

test('messages: edit via PUT and PATCH, read-your-writes', async (t) => {
  const { url } = await startDeployment(t);
  const token = await setup(url);
  const base = `/applications/${token}/chats/1/messages`;
  const created = await call(url, 'POST', base, { body: 'first draft' });
  await call(url, 'POST', base, { body: 'second message' });
  const path = `${base}/1`;
  assert.equal((await call(url, 'GET', path)).body.body, 'first draft', 'read once so that a cached copy exists');

  const put = await call(url, 'PUT', path, { body: 'edited by PUT' });
  assert.equal(put.status, 200);
  assertMessage(put.body, 1, 'edited by PUT');
  assert.equal(put.body.created_at, created.body.created_at);
  assert.ok(put.body.updated_at >= created.body.updated_at);
  assert.equal((await call(url, 'GET', path)).body.body, 'edited by PUT');

  const patch = await call(url, 'PATCH', path, { body: 'edited by PATCH' });
  assert.equal(patch.status, 200);
  assertMessage(patch.body, 1, 'edited by PATCH');
  assert.equal((await call(url, 'GET', path)).body.body, 'edited by PATCH');

  const longest = await call(url, 'PUT', path, { body: 'y'.repeat(limits.messageBodyMax) });
  assert.equal(longest.status, 200);

  // editing creates nothing and leaves the other message alone
  const list = await call(url, 'GET', base);
  assert.deepEqual(numbers(list.body), [1, 2]);
  assert.equal(list.body[0].body, 'y'.repeat(limits.messageBodyMax));
  assert.equal(list.body[1].body, 'second message');
});

test('messages: errors the service decides (404); failed requests change nothing', async (t) => {
  const { url } = await startDeployment(t);
  const token = await setup(url);
  const base = `/applications/${token}/chats/1/messages`;
  assert.equal((await call(url, 'POST', base, { body: 'only one' })).status, 201);

  // unknown token and unknown chat: 404 on every message route
  for (const chats of ['/applications/nope/chats', '/applications/x%F0%9F%98%80/chats', `/applications/${'x'.repeat(200)}/chats`, `/applications/${token}/chats`]) {
    for (const chat of chats.endsWith(`${token}/chats`) ? ['2', '0', '4294967296'] : ['1']) {
      const m = `${chats}/${chat}/messages`;
      for (const [method, path, body] of [
        ['POST', m, { body: 'x' }], ['GET', m, undefined], ['GET', `${m}/1`, undefined],
        ['PUT', `${m}/1`, { body: 'x' }], ['PATCH', `${m}/1`, { body: 'x' }], ['GET', `${m}/search?query=x`, undefined],
      ] as const) {
        expectError(await call(url, method, path, body), 404, 'not_found', `${method} ${path.slice(0, 80)}`);
      }
    }
  }

  const cases: Array<[string, string, unknown, number, string, Record<string, string>?]> = [
    // unknown message, and message numbers that cannot exist
    ['GET', `${base}/2`, undefined, 404, 'not_found'],
    ['PUT', `${base}/2`, { body: 'x' }, 404, 'not_found'],
    ['PATCH', `${base}/2`, { body: 'x' }, 404, 'not_found'],
    ['GET', `${base}/0`, undefined, 404, 'not_found'],
    ['PUT', `${base}/0`, { body: 'x' }, 404, 'not_found'],
    ['GET', `${base}/4294967296`, undefined, 404, 'not_found'],
  ];
  for (const [method, path, body, status, code, headers] of cases) {
    const res = await call(url, method, path, body, headers);
    expectError(res, status, code, `${method} ${path.slice(0, 100)} ${JSON.stringify(body)?.slice(0, 40)}`);
  }
  // an empty body is a missing body whatever its content type
  expectError(await rawRequest(url, 'POST', base, '', { 'content-type': 'application/json' }), 400, 'validation_error');
  expectError(await rawRequest(url, 'POST', base, new Uint8Array(0)), 400, 'validation_error');

  // none of the failed requests created or changed anything
  const list = await call(url, 'GET', base);
  assert.deepEqual(list.body.map((m: { number: number; body: string }) => [m.number, m.body]), [[1, 'only one']]);
});

test('messages: validation errors are the HTTP layer\'s alone (app.inject, no process)', async (t) => {
  const http = await httpOnly(t);
  const token = 'u8GkqB3mXq5V0sYxJ2pL9w';
  const base = `/applications/${token}/chats/1/messages`;
  const cases: Array<[string, string, unknown, number, string, Record<string, string>?]> = [
    ['PATCH', `${base}/9999999999999999`, { body: 'x' }, 400, 'validation_error'],
    // non-integer path numbers, in the chat's place or the message's
    ['GET', `${base}/abc`, undefined, 400, 'validation_error'],
    ['GET', `${base}/-1`, undefined, 400, 'validation_error'],
    ['GET', `${base}/1.5`, undefined, 400, 'validation_error'],
    ['PUT', `${base}/x`, { body: 'x' }, 400, 'validation_error'],
    ['GET', `/applications/${token}/chats/abc/messages`, undefined, 400, 'validation_error'],
    ['POST', `/applications/${token}/chats/1.5/messages`, { body: 'x' }, 400, 'validation_error'],
    ['GET', `/applications/${token}/chats/-1/messages/1`, undefined, 400, 'validation_error'],
    // list parameters
    ['GET', `${base}?limit=0`, undefined, 400, 'validation_error'],
    ['GET', `${base}?limit=${limits.listLimitMax + 1}`, undefined, 400, 'validation_error'],
    ['GET', `${base}?limit=ten`, undefined, 400, 'validation_error'],
    ['GET', `${base}?after=-1`, undefined, 400, 'validation_error'],
    ['GET', `${base}?after=one`, undefined, 400, 'validation_error'],
    // body required, non-empty, a string, not too long
    ['POST', base, undefined, 400, 'validation_error'],
    ['POST', base, '', 400, 'validation_error'],
    ['POST', base, {}, 400, 'validation_error'],
    ['POST', base, { body: '' }, 400, 'validation_error'],
    ['POST', base, { body: '   ' }, 400, 'validation_error'],
    ['POST', base, { body: ' \n\t ' }, 400, 'validation_error'],
    ['POST', base, { body: null }, 400, 'validation_error'],
    ['POST', base, { body: 42 }, 400, 'validation_error'],
    ['POST', base, { body: ['hi'] }, 400, 'validation_error'],
    ['POST', base, { text: 'hi' }, 400, 'validation_error'],
    ['POST', base, '[]', 400, 'validation_error'],
    ['POST', base, '"hi"', 400, 'validation_error'],
    ['POST', base, { body: 'x'.repeat(limits.messageBodyMax + 1) }, 400, 'validation_error'],
    ['PUT', `${base}/1`, {}, 400, 'validation_error'],
    ['PUT', `${base}/1`, { body: '' }, 400, 'validation_error'],
    ['PATCH', `${base}/1`, { body: '  ' }, 400, 'validation_error'],
    ['PATCH', `${base}/1`, { body: 7 }, 400, 'validation_error'],
    ['PUT', `${base}/1`, { body: 'x'.repeat(limits.messageBodyMax + 1) }, 400, 'validation_error'],
    ['POST', base, { body: 'x'.repeat(2_000_000) }, 413, 'payload_too_large'],
    // not JSON
    ['POST', base, 'body=hi', 415, 'unsupported_media_type', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['POST', base, 'hi', 415, 'unsupported_media_type', { 'content-type': 'text/plain' }],
    ['PUT', `${base}/1`, '{"body":"x"}', 415, 'unsupported_media_type', { 'content-type': 'text/plain' }],
    ['POST', base, '{"body":"x"', 400, 'malformed_json'],
    ['PATCH', `${base}/1`, "{'body':'x'}", 400, 'malformed_json'],
    // search: query is required and non-empty
    ['GET', `${base}/search`, undefined, 400, 'validation_error'],
    ['GET', `${base}/search?query=`, undefined, 400, 'validation_error'],
    ['GET', `${base}/search?q=x`, undefined, 400, 'validation_error'],
    ['GET', `${base}/search?query=x&limit=0`, undefined, 400, 'validation_error'],
    ['GET', `${base}/search?query=x&after=abc`, undefined, 400, 'validation_error'],
    ['GET', `${base}/search?query=${'q'.repeat(limits.searchQueryMax + 1)}`, undefined, 400, 'validation_error'],
    ['GET', `/applications/${token}/chats/abc/messages/search?query=x`, undefined, 400, 'validation_error'],
  ];
  for (const [method, path, body, status, code, headers] of cases) {
    expectError(await http.call(method, path, body, headers), status, code, `${method} ${path.slice(0, 100)} ${JSON.stringify(body)?.slice(0, 40)}`);
  }
  // an empty body is a missing body whatever its content type
  expectError(await http.call('POST', base, '', { 'content-type': 'application/json' }), 400, 'validation_error');
  assert.deepEqual(http.calls, [], 'no operation was asked');
});
