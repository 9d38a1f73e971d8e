import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Operator } from '../../src/domain/operator.js';
import { TEST_ADMIN_KEY, operator } from '../support/env.js';
import { expectError, nextLink } from '../support/expect.js';
import { call, startDeployment } from '../support/harness.js';
import { httpOnly } from '../support/inject.js';

test('applications: create, get, list with keyset pagination, rename', async (t) => {
  const { url } = await startDeployment(t);

  const created = await call(url, 'POST', '/applications', { name: 'Acme' });
  assert.equal(created.status, 201);
  assert.equal(created.body.name, 'Acme');
  assert.equal(created.body.chats_count, 0);
  assert.match(created.body.token, /^[A-Za-z0-9_-]{22,}$/);
  assert.ok(!('id' in created.body));
  assert.ok(Date.parse(created.body.created_at) > 0);

  const got = await call(url, 'GET', `/applications/${created.body.token}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, created.body);

  const renamed = await call(url, 'PUT', `/applications/${created.body.token}`, { name: 'Acme 2' });
  assert.equal(renamed.status, 200);
  assert.equal(renamed.body.name, 'Acme 2');
  assert.equal((await call(url, 'GET', `/applications/${created.body.token}`)).body.name, 'Acme 2', 'read-your-writes after update');
  const patched = await call(url, 'PATCH', `/applications/${created.body.token}`, { name: 'Acme 3' });
  assert.equal(patched.body.name, 'Acme 3');

  for (let i = 0; i < 4; i++) assert.equal((await call(url, 'POST', '/applications', { name: `app ${i}` })).status, 201);
  const page1 = await call(url, 'GET', '/applications?limit=2', undefined, operator);
  assert.equal(page1.status, 200);
  assert.equal(page1.body.length, 2);
  assert.equal(page1.body[0].token, created.body.token, 'creation order');
  const link = page1.headers.get('link');
  assert.match(link ?? '', /rel="next"/);
  const next = /<([^>]+)>/.exec(link!)![1]!;
  const page2 = await call(url, 'GET', next, undefined, operator);
  assert.equal(page2.body.length, 2);
  const page3 = await call(url, 'GET', /<([^>]+)>/.exec(page2.headers.get('link')!)![1]!, undefined, operator);
  assert.equal(page3.body.length, 1);
  assert.equal(page3.headers.get('link'), null);
  const all = [...page1.body, ...page2.body, ...page3.body].map((a: { token: string }) => a.token);
  assert.equal(new Set(all).size, 5);
});

test('applications: errors the service decides (404)', async (t) => {
  const { url } = await startDeployment(t);
  for (const [method, path, body] of [['GET', '/applications/nope', undefined], ['GET', '/applications/bad.token*', undefined], ['PUT', '/applications/nope', { name: 'x' }]] as const) {
    expectError(await call(url, method, path, body), 404, 'not_found', `${method} ${path}`);
  }
});

test('applications: validation errors are the HTTP layer\'s alone (app.inject, no process)', async (t) => {
  const http = await httpOnly(t, { service: { authorizeOperator: () => undefined } });
  const cases: Array<[string, string, unknown, number, string, Record<string, string>?]> = [
    ['POST', '/applications', {}, 400, 'validation_error'],
    ['POST', '/applications', { name: '' }, 400, 'validation_error'],
    ['POST', '/applications', { name: '   ' }, 400, 'validation_error'],
    ['POST', '/applications', { name: 42 }, 400, 'validation_error'],
    ['POST', '/applications', { name: 'x'.repeat(256) }, 400, 'validation_error'],
    ['POST', '/applications', '{"name":', 400, 'malformed_json'],
    ['POST', '/applications', 'name=x', 415, 'unsupported_media_type', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['POST', '/applications', { name: 'x'.repeat(2_000_000) }, 413, 'payload_too_large'],
    ['POST', '/applications', { name: 'ok' }, 400, 'validation_error', { 'idempotency-key': 'k'.repeat(129) }],
    ['GET', '/applications?limit=0', undefined, 400, 'validation_error', operator],
    ['GET', '/applications?limit=1001', undefined, 400, 'validation_error', operator],
    ['GET', '/applications?limit=abc', undefined, 400, 'validation_error', operator],
    ['GET', '/applications?after=%%%', undefined, 400, 'validation_error', operator],
    ['GET', '/nowhere', undefined, 404, 'not_found'],
  ];
  for (const [method, path, body, status, code, headers] of cases) {
    expectError(await http.call(method, path, body, headers), status, code, `${method} ${path} ${JSON.stringify(body)?.slice(0, 40)}`);
  }
  assert.deepEqual(http.calls.filter((c) => c !== 'authorizeOperator'), [], 'no operation was asked');
});

test('applications: listing them all is for operators (Authorization: Bearer <ADMIN_API_KEY>), 401 / 403 otherwise', async (t) => {
  const { url } = await startDeployment(t);
  const app = await call(url, 'POST', '/applications', { name: 'secret holder' });
  assert.equal(app.status, 201);

  const missing = await call(url, 'GET', '/applications?limit=1000');
  expectError(missing, 401, 'unauthorized', 'no credential');
  assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer /);
  assert.ok(!JSON.stringify(missing.body).includes(app.body.token), 'no token in the refusal');
  expectError(await call(url, 'GET', '/applications?limit=0'), 401, 'unauthorized', 'the credential is checked before the query');
  expectError(await call(url, 'GET', '/applications', undefined, { authorization: `Basic ${Buffer.from(`x:${TEST_ADMIN_KEY}`).toString('base64')}` }), 401, 'unauthorized', 'not a bearer credential');
  for (const wrong of ['nope', `${TEST_ADMIN_KEY}x`, TEST_ADMIN_KEY.slice(0, -1), TEST_ADMIN_KEY.toUpperCase()]) {
    const res = await call(url, 'GET', '/applications', undefined, { authorization: `Bearer ${wrong}` });
    expectError(res, 403, 'forbidden', `wrong key ${wrong}`);
    assert.equal(res.headers.get('www-authenticate'), null);
  }
  const ok = await call(url, 'GET', '/applications', undefined, operator);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.map((a: { token: string }) => a.token), [app.body.token]);
  // lowercase scheme, as RFC 7235 allows
  assert.equal((await call(url, 'GET', '/applications', undefined, { authorization: `bearer ${TEST_ADMIN_KEY}` })).status, 200);
  // the rest of the API needs no credential
  assert.equal((await call(url, 'GET', `/applications/${app.body.token}`)).status, 200);
});

test('applications: without ADMIN_API_KEY the listing is disabled (403 with a clear message)', async (t) => {
  const { url } = await startDeployment(t, { env: { ADMIN_API_KEY: '' } });
  assert.equal((await call(url, 'POST', '/applications', { name: 'x' })).status, 201);
  for (const headers of [undefined, operator, { authorization: 'Bearer ' }]) {
    const res = await call(url, 'GET', '/applications', undefined, headers);
    expectError(res, 403, 'forbidden', JSON.stringify(headers));
    assert.match(res.body.message, /ADMIN_API_KEY/);
  }
});

test('applications: listing cursors carry no token or id and cannot be forged or altered (400)', async (t) => {
  const { url } = await startDeployment(t);
  const tokens: string[] = [];
  for (let i = 0; i < 5; i++) tokens.push((await call(url, 'POST', '/applications', { name: `app ${i}` })).body.token);

  const page1 = await call(url, 'GET', '/applications?limit=2', undefined, operator);
  const next = nextLink(page1)!;
  const cursor = new URL(next, url).searchParams.get('after')!;
  const decoded = Buffer.from(cursor, 'base64url').toString('latin1');
  for (const token of tokens) {
    assert.ok(!cursor.includes(token) && !decoded.includes(token), 'no token in the cursor');
  }
  assert.ok(!/^[0-9]+$/.test(cursor) && !/^[\x20-\x7e]*$/.test(decoded), 'the cursor is sealed: neither a number nor readable text');
  assert.deepEqual((await call(url, 'GET', next, undefined, operator)).body.map((a: { token: string }) => a.token), tokens.slice(2, 4));

  const forged = [
    Buffer.from(`a:${tokens[0]}`).toString('base64url'), // the old cursor format: base64url of a:<token>
    Buffer.from('a:doesnotexist').toString('base64url'),
    'garbage', '1', '0', '%00', 'x'.repeat(200),
    cursor.slice(0, -1) + (cursor.endsWith('A') ? 'B' : 'A'), // one character changed
    cursor.slice(1) + cursor[0], // rotated
    new Operator(TEST_ADMIN_KEY + 'other', 'elsewhere').sealCursor(1), // sealed with another key
  ];
  for (const after of forged) {
    expectError(await call(url, 'GET', `/applications?after=${encodeURIComponent(after)}`, undefined, operator), 400, 'validation_error', `after=${after}`);
  }
});
