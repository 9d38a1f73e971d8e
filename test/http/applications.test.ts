import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, startDeployment } from '../support/harness.js';

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
  const page1 = await call(url, 'GET', '/applications?limit=2');
  assert.equal(page1.status, 200);
  assert.equal(page1.body.length, 2);
  assert.equal(page1.body[0].token, created.body.token, 'creation order');
  const link = page1.headers.get('link');
  assert.match(link ?? '', /rel="next"/);
  const next = /<([^>]+)>/.exec(link!)![1]!;
  const page2 = await call(url, 'GET', next);
  assert.equal(page2.body.length, 2);
  const page3 = await call(url, 'GET', /<([^>]+)>/.exec(page2.headers.get('link')!)![1]!);
  assert.equal(page3.body.length, 1);
  assert.equal(page3.headers.get('link'), null);
  const all = [...page1.body, ...page2.body, ...page3.body].map((a: { token: string }) => a.token);
  assert.equal(new Set(all).size, 5);
});

test('applications: errors', async (t) => {
  const { url } = await startDeployment(t);
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
    ['GET', '/applications/nope', undefined, 404, 'not_found'],
    ['GET', '/applications/bad.token*', undefined, 404, 'not_found'],
    ['PUT', '/applications/nope', { name: 'x' }, 404, 'not_found'],
    ['GET', '/applications?limit=0', undefined, 400, 'validation_error'],
    ['GET', '/applications?limit=1001', undefined, 400, 'validation_error'],
    ['GET', '/applications?limit=abc', undefined, 400, 'validation_error'],
    ['GET', '/applications?after=%%%', undefined, 400, 'validation_error'],
    ['GET', '/nowhere', undefined, 404, 'not_found'],
  ];
  for (const [method, path, body, status, code, headers] of cases) {
    const res = await call(url, method, path, body, headers);
    assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 40)} → ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error, code, `${method} ${path}`);
    assert.equal(typeof res.body.message, 'string');
  }
});
