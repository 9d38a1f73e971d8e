import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from 'nats';
import { names } from '../../src/protocol/subjects.js';
import { NATS_URL } from '../support/env.js';
import { openDb } from '../support/db.js';
import { call, startDeployment } from '../support/harness.js';

/**
 * Issue 12, item 9: a row's `version` was the commands-stream sequence of its last write. When that stream is
 * recreated (NATS data lost with one replica), sequences restart at 1, and an update that may be a duplicate (an
 * Idempotency-Key, or a redelivery) compared its small sequence with the row's large version and was answered
 * "already applied" — the update was lost. Versions now carry a service-owned incarnation of the stream.
 */
test('updates still apply after the commands stream is recreated', { timeout: 120_000 }, async (t) => {
  const first = await startDeployment(t, { keep: true });
  const { namespace } = first;
  let url = first.url;
  const token = (await call(url, 'POST', '/applications', { name: 'before' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`, { name: 'before' })).status, 201);
  assert.equal((await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: 'before' })).status, 201);
  for (let i = 0; i < 8; i++) {
    assert.equal((await call(url, 'PUT', `/applications/${token}/chats/1/messages/1`, { body: `edit ${i}` }, { 'idempotency-key': `edit ${i}` })).status, 200);
  }
  const db = await openDb(namespace);
  t.after(() => db.end());
  const versionOf = async (): Promise<number> => {
    const [rows] = await db.query('SELECT version FROM messages WHERE number = 1');
    return Number((rows as { version: number }[])[0]!.version);
  };
  const before = await versionOf();

  // NATS loses the commands stream: it is recreated empty, and its sequences start again at 1
  await first.runtime.stop();
  const nc = await connect({ servers: NATS_URL });
  t.after(() => nc.close());
  await (await nc.jetstreamManager()).streams.delete(names(namespace).commandsStream);

  const second = await startDeployment(t, { namespace });
  url = second.url;
  const edited = await call(url, 'PUT', `/applications/${token}/chats/1/messages/1`, { body: 'after the stream was recreated' }, { 'idempotency-key': 'after' });
  assert.equal(edited.status, 200);
  assert.equal(edited.body.body, 'after the stream was recreated', 'the update is applied, not mistaken for an old one');
  assert.equal((await call(url, 'GET', `/applications/${token}/chats/1/messages/1`)).body.body, 'after the stream was recreated');
  assert.ok(await versionOf() > before, 'the version keeps growing across stream incarnations');

  const renamed = await call(url, 'PUT', `/applications/${token}/chats/1`, { name: 'after' }, { 'idempotency-key': 'rename chat' });
  assert.equal(renamed.body.name, 'after');
  const app = await call(url, 'PUT', `/applications/${token}`, { name: 'after' }, { 'idempotency-key': 'rename app' });
  assert.equal(app.body.name, 'after');
  // a new message gets the next number
  assert.equal((await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: 'new' })).body.number, 2);
});
