import assert from 'node:assert/strict';
import { test } from 'node:test';
import { names } from '../../src/protocol/subjects.js';
import { operator } from '../support/env.js';
import { call, startDeployment, waitFor } from '../support/harness.js';

/** A read that cannot reach MySQL answers 503 `unavailable` with Retry-After, never a 500. */
test('MySQL unreachable: reads answer 503 with Retry-After and readiness turns 503', async (t) => {
  const { url, runtime } = await startDeployment(t, { env: { ROLES: 'api', CACHE_TTL_SECONDS: '1' } });
  // the api's connection pool goes away: every query now fails in the driver
  await runtime.orm!.close(true);

  const res = await call(url, 'GET', '/applications/someToken');
  assert.equal(res.status, 503, JSON.stringify(res.body));
  assert.equal(res.body.error, 'unavailable');
  assert.ok(res.headers.get('retry-after'));
  assert.doesNotMatch(res.body.message, /ECONN|pool|knex|SELECT/i, 'no driver text leaks');

  const list = await call(url, 'GET', '/applications', undefined, operator);
  assert.equal(list.status, 503);

  const ready = await call(url, 'GET', '/health/ready');
  assert.equal(ready.status, 503);
  assert.equal(ready.body.checks.mysql, false);
});

async function gateOpen(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('chat_write_gate_open '));
  return line ? Number(line.split(' ')[1]) : NaN;
}

/**
 * With MySQL unreachable a write cannot be applied: once the api's probe has failed, a write already waiting for
 * its actor is answered 503 `timeout` (not confirmed: its command stays queued) and new writes answer 503
 * `unavailable` at once, their command never published. No actor runs here, and COMMAND_TIMEOUT_MS is far beyond
 * the test's timeout: a write left waiting would answer only after it, so the test would fail.
 */
test('MySQL unreachable: the waiting write answers 503 timeout, new writes 503 unavailable at once and are not published', { timeout: 30_000 }, async (t) => {
  const { url, runtime, namespace } = await startDeployment(t, { env: { ROLES: 'api', WRITE_GATE_PROBE_MS: '50', COMMAND_TIMEOUT_MS: '120000' } });
  assert.equal(await gateOpen(url), 1);
  const jsm = await runtime.nc.jetstreamManager();
  const stream = names(namespace).commandsStream;
  const messages = async (): Promise<number> => (await jsm.streams.info(stream)).state.messages;
  const initial = await messages();
  const waiting = call(url, 'POST', '/applications', { name: 'sent before the outage' });
  await waitFor('the first write queued', async () => (await messages()) === initial + 1, 10_000, 20);
  const before = initial + 1;

  await runtime.orm!.close(true);
  await waitFor('the write gate closed', async () => (await gateOpen(url)) === 0, 10_000, 50);
  const given = await waiting;
  assert.equal(given.status, 503, JSON.stringify(given.body));
  assert.equal(given.body.error, 'timeout', 'a write already queued is not confirmed (it may still be applied)');

  const writes = [
    await call(url, 'POST', '/applications', { name: 'refused' }),
    await call(url, 'POST', '/applications/someToken/chats/1/messages', { body: 'refused' }, { 'idempotency-key': 'k1' }),
    await call(url, 'PUT', '/applications/someToken/chats/1/messages/1', { body: 'refused' }),
  ];
  for (const res of writes) {
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.error, 'unavailable');
    assert.match(res.body.message, /database is unavailable/);
    assert.ok(res.headers.get('retry-after'));
  }
  assert.equal((await jsm.streams.info(stream)).state.messages, before, 'no command published');
});

/**
 * While the write gate is closed a retry of a write that already has its outcome is still answered: the outcome is
 * recorded under its Idempotency-Key (NATS KV, not MySQL) and replayed without sending anything. The same key with
 * another request is refused as always (422); a key without an outcome is refused like any write (503).
 */
test('MySQL unreachable: a retry with the Idempotency-Key of a completed write replays its outcome, nothing is published', { timeout: 60_000 }, async (t) => {
  const { url, runtime, namespace } = await startDeployment(t, { env: { WRITE_GATE_PROBE_MS: '50' } });
  const key = { 'idempotency-key': `replay-${namespace}` };
  const first = await call(url, 'POST', '/applications', { name: 'kept' }, key);
  assert.equal(first.status, 201, JSON.stringify(first.body));

  const jsm = await runtime.nc.jetstreamManager();
  const published = async (): Promise<number> => (await jsm.streams.info(names(namespace).commandsStream)).state.last_seq;
  await runtime.orm!.close(true);
  await waitFor('the write gate closed', async () => (await gateOpen(url)) === 0, 10_000, 50);
  const before = await published();

  const retry = await call(url, 'POST', '/applications', { name: 'kept' }, key);
  assert.equal(retry.status, 201, JSON.stringify(retry.body));
  assert.deepEqual(retry.body, first.body);

  const reused = await call(url, 'POST', '/applications', { name: 'another request' }, key);
  assert.equal(reused.status, 422, JSON.stringify(reused.body));
  assert.equal(reused.body.error, 'idempotency_key_reused');

  const fresh = await call(url, 'POST', '/applications', { name: 'kept' }, { 'idempotency-key': `fresh-${namespace}` });
  assert.equal(fresh.status, 503, JSON.stringify(fresh.body));
  assert.equal(fresh.body.error, 'unavailable');
  assert.equal(await published(), before, 'no command published while the gate is closed');
});
