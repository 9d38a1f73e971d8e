import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsMsg } from 'nats';
import { Delivery } from '../../src/actors/delivery.js';
import { names } from '../../src/protocol/subjects.js';
import { messageNumbers, openDb } from '../support/db.js';
import { call, startDeployment, waitFor } from '../support/harness.js';

/**
 * A command committed but never acknowledged (the process "crashed" between COMMIT and ack: here the ack is
 * swallowed) is redelivered by JetStream. The redelivery must find the committed row: same number, no second
 * row, no number consumed, and its event is not published twice.
 */
test('a command redelivered after its commit gets the same number and creates no second row', async (t) => {
  const { url, namespace, runtime } = await startDeployment(t, { env: { COMMAND_ACK_WAIT_MS: '1500' } });
  const db = await openDb(namespace);
  t.after(() => db.end());
  const token = (await call(url, 'POST', '/applications', { name: 'redelivery' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`)).status, 201);

  const realAck = Delivery.prototype.ack;
  let swallowed = 0;
  let redeliveredAcks = 0;
  Delivery.prototype.ack = function (this: Delivery) {
    if (this.envelope.command.type === 'CreateMessage') {
      if (swallowed === 0) {
        // the ack is lost on the wire: as if the process died right after its commit
        swallowed++;
        const msg = (this as unknown as { msg: JsMsg }).msg;
        const wireAck = msg.ack.bind(msg);
        msg.ack = () => undefined;
        realAck.call(this);
        msg.ack = wireAck;
        return;
      }
      if (this.mayBeDuplicate) redeliveredAcks++;
    }
    realAck.call(this);
  };
  t.after(() => {
    Delivery.prototype.ack = realAck;
  });

  const first = await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: 'only once' });
  assert.equal(first.status, 201);
  assert.equal(first.body.number, 1);
  await waitFor('the first ack (sent after the reply)', async () => swallowed === 1);

  // JetStream redelivers after the ack wait; the actor finds the row and acks this time
  await waitFor('the redelivered command to be acked', async () => redeliveredAcks === 1);
  const jsm = await runtime.nc!.jetstreamManager();
  const n = names(namespace);
  await waitFor('the commands stream to be empty', async () => (await jsm.streams.info(n.commandsStream)).state.messages === 0);

  assert.deepEqual(await messageNumbers(db, token, 1), [1], 'no second row');
  const second = await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: 'next' });
  assert.equal(second.body.number, 2, 'no number was consumed by the redelivery');
  assert.deepEqual(await messageNumbers(db, token, 1), [1, 2]);
  assert.equal((await call(url, 'GET', `/applications/${token}/chats/1/messages/1`)).body.body, 'only once');

  // events: ApplicationCreated, ChatCreated, MessageCreated ×2 — the replayed event was deduplicated
  const events = await jsm.streams.info(n.eventsStream, { subjects_filter: `${namespace}.evt.message.>` });
  assert.equal(Object.values(events.state.subjects ?? {}).reduce((a, b) => a + b, 0), 2);
});
