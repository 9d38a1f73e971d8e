import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertNoInternalIds, expectError, type Response } from '../support/expect.js';
import { operator } from '../support/env.js';
import { call, startDeployment } from '../support/harness.js';

test('health: live and ready', async (t) => {
  const { url } = await startDeployment(t);
  const live = await call(url, 'GET', '/health/live');
  assert.equal(live.status, 200);
  assert.equal(live.body.status, 'ok');

  const ready = await call(url, 'GET', '/health/ready');
  assert.equal(ready.status, 200, JSON.stringify(ready.body));
  assert.equal(ready.body.status, 'ready');
  assert.equal(typeof ready.body.checks, 'object');
  assert.ok(Object.keys(ready.body.checks).length > 0);
  for (const [name, ok] of Object.entries(ready.body.checks)) assert.equal(ok, true, `check ${name}`);
  assert.equal(ready.body.checks.mysql, true);
  assert.equal(ready.body.checks.nats, true);
});

test('health: X-Request-Id is echoed when sent and minted otherwise, on successes and errors', async (t) => {
  const { url } = await startDeployment(t);
  const token = (await call(url, 'POST', '/applications', { name: 'app' })).body.token as string;
  const requests: Array<[string, string, unknown]> = [
    ['GET', '/health/live', undefined],
    ['GET', `/applications/${token}`, undefined],
    ['POST', `/applications/${token}/chats`, {}],
    ['GET', '/applications/nope', undefined],
    ['POST', '/applications', '{"name":'],
    ['GET', '/nowhere', undefined],
    ['GET', `/applications/${'x'.repeat(300)}`, undefined],
    ['GET', '/applications/%E0%A4%A', undefined],
  ];
  for (const [i, [method, path, body]] of requests.entries()) {
    const id = `test-req.${i}:abc`;
    const echoed = await call(url, method, path, body, { 'x-request-id': id });
    assert.equal(echoed.headers.get('x-request-id'), id, `${method} ${path.slice(0, 40)} → ${echoed.status}`);
    const minted = await call(url, method, path, body);
    const generated = minted.headers.get('x-request-id');
    assert.ok(generated && generated.length > 0, `${method} ${path.slice(0, 40)} mints an id`);
    assert.notEqual(generated, id);
  }
  // an unreasonable incoming id is replaced, not echoed
  const hostile = await call(url, 'GET', '/health/live', undefined, { 'x-request-id': 'x'.repeat(500) });
  assert.equal(hostile.status, 200);
  assert.notEqual(hostile.headers.get('x-request-id'), 'x'.repeat(500));
});

test('health: every error is JSON { error, message } and no response carries an internal id', async (t) => {
  const { url } = await startDeployment(t);
  const app = await call(url, 'POST', '/applications', { name: 'app' });
  const token = app.body.token as string;
  const chats = `/applications/${token}/chats`;
  const messages = `${chats}/1/messages`;

  // successes of every kind
  const successes: Response[] = [app];
  successes.push(await call(url, 'GET', '/applications', undefined, operator));
  successes.push(await call(url, 'GET', `/applications/${token}`));
  successes.push(await call(url, 'PUT', `/applications/${token}`, { name: 'renamed' }));
  successes.push(await call(url, 'PATCH', `/applications/${token}`, { name: 'renamed again' }));
  successes.push(await call(url, 'POST', chats, { name: 'c' }));
  successes.push(await call(url, 'POST', chats, {}, { 'idempotency-key': 'k' }));
  successes.push(await call(url, 'POST', chats, {}, { 'idempotency-key': 'k' }));
  successes.push(await call(url, 'GET', chats));
  successes.push(await call(url, 'GET', `${chats}/1`));
  successes.push(await call(url, 'PUT', `${chats}/1`, { name: 'd' }));
  successes.push(await call(url, 'POST', messages, { body: 'hi' }));
  successes.push(await call(url, 'POST', messages, { body: 'there' }, { 'idempotency-key': 'k2' })); // 'k' is bound to the chat creation
  successes.push(await call(url, 'GET', messages));
  successes.push(await call(url, 'GET', `${messages}?limit=1`));
  successes.push(await call(url, 'GET', `${messages}/1`));
  successes.push(await call(url, 'PATCH', `${messages}/1`, { body: 'edited' }));
  for (const res of successes) {
    assert.ok(res.status === 200 || res.status === 201, JSON.stringify(res.body));
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assertNoInternalIds(res.body);
    for (const [name, value] of res.headers) assert.ok(!/internal|sql/i.test(`${name}: ${value}`), `header ${name}: ${value}`);
  }

  // errors of every kind
  const errors: Array<[Response, number]> = [
    [await call(url, 'GET', '/applications/nope'), 404],
    [await call(url, 'GET', `${chats}/99`), 404],
    [await call(url, 'GET', `${messages}/99`), 404],
    [await call(url, 'GET', `${chats}/99/messages`), 404],
    [await call(url, 'GET', '/nowhere'), 404],
    [await call(url, 'DELETE', `/applications/${token}`), 405], // a known path, a method it does not serve (issue 8)
    [await call(url, 'GET', `${chats}/abc`), 400],
    [await call(url, 'GET', `${chats}?limit=0`), 400],
    [await call(url, 'GET', '/applications?after=not-a-cursor', undefined, operator), 400],
    [await call(url, 'POST', '/applications', {}), 400],
    [await call(url, 'POST', messages, { body: '' }), 400],
    [await call(url, 'POST', messages, '{"body":'), 400],
    [await call(url, 'POST', messages, 'hi', { 'content-type': 'text/plain' }), 415],
    [await call(url, 'POST', messages, { body: 'x'.repeat(1_100_000) }), 413],
    [await call(url, 'GET', `${messages}/search`), 400],
    [await call(url, 'GET', '/applications/%E0%A4%A'), 400],
    [await call(url, 'GET', `/applications/${'x'.repeat(300)}/chats`), 404],
  ];
  for (const [res, status] of errors) {
    expectError(res, status);
    assertNoInternalIds(res.body);
    assert.deepEqual(Object.keys(res.body).sort(), ['error', 'message'], JSON.stringify(res.body));
    assert.ok(!/sql|stack|at \w+ \(/i.test(res.body.message), res.body.message);
  }
});
