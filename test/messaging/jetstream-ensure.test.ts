import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AckPolicy, DeliverPolicy, NatsError, RetentionPolicy, StorageType, connect, nanos } from 'nats';
import { ensureConsumer, ensureStream } from '../../src/messaging/jetstream-ensure.js';
import { isConsumerGone, isConsumerNotFound, isRoutinePullStatus, isStreamNameInUse, isStreamNotFound } from '../../src/messaging/jetstream-errors.js';
import { NATS_URL, uniqueName } from '../support/env.js';

test('ensureStream and ensureConsumer create, update and tolerate races; errors are told apart by code', async (t) => {
  const nc = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  const stream = uniqueName('ENSURE_');
  t.after(async () => {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  await assert.rejects(jsm.streams.info(stream), (err) => isStreamNotFound(err) && !isConsumerNotFound(err));
  const config = { name: stream, subjects: [`${stream}.>`], retention: RetentionPolicy.Limits, storage: StorageType.Memory, max_msgs: 10 };
  // several processes starting at once: one creates, the others update
  await Promise.all([ensureStream(jsm, config), ensureStream(jsm, config), ensureStream(jsm, config)]);
  await ensureStream(jsm, { ...config, max_msgs: 20 });
  assert.equal((await jsm.streams.info(stream)).config.max_msgs, 20);
  await assert.rejects(jsm.streams.add({ ...config, max_msgs: 30 }), (err) => isStreamNameInUse(err));

  const consumer = {
    durable_name: 'worker',
    filter_subject: `${stream}.a`,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(5000),
    max_ack_pending: 100,
    max_deliver: -1,
  };
  await assert.rejects(jsm.consumers.info(stream, 'worker'), (err) => isConsumerNotFound(err));
  await Promise.all([ensureConsumer(jsm, stream, consumer), ensureConsumer(jsm, stream, consumer)]);
  // an existing durable consumer takes a changed ack wait (it used to keep the first one)
  await ensureConsumer(jsm, stream, { ...consumer, ack_wait: nanos(9000), max_ack_pending: 200 });
  const info = await jsm.consumers.info(stream, 'worker');
  assert.equal(info.config.ack_wait, nanos(9000));
  assert.equal(info.config.max_ack_pending, 200);
  assert.equal(info.config.filter_subject, `${stream}.a`);

  // pull statuses
  assert.ok(isConsumerGone(new NatsError('consumer deleted', '409')));
  assert.ok(!isConsumerGone(new NatsError('exceeded maxwaiting', '409')));
  assert.ok(isRoutinePullStatus(new NatsError('no messages', '404')));
  assert.ok(isRoutinePullStatus(new NatsError('request timeout', '408')));
  assert.ok(!isRoutinePullStatus(new Error('408')));
});
