import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { DEFAULT_PARTITIONS } from '../../src/messaging/topology.js';
import { partitionOf, routingKey } from '../../src/protocol/partition.js';
import { startRuntime } from '../../src/runtime.js';
import { testConfig } from '../support/env.js';
import { call, startDeployment } from '../support/harness.js';

/**
 * PARTITIONS=0 (the default) means "the deployment's": a process takes the number stored with the streams, and
 * the first process of a new deployment stores DEFAULT_PARTITIONS. An explicit other value is still refused
 * (test/regressions/issue-12-8.test.ts).
 */
test('a process started with PARTITIONS=0 routes with the number the deployment was set up with', { timeout: 60_000 }, async (t) => {
  const { namespace, runtime } = await startDeployment(t, { env: { PARTITIONS: '8' } });
  assert.equal(runtime.config.partitions, 8);

  const joined = await startRuntime(testConfig(namespace, { PARTITIONS: '0', ROLES: 'api' }), createLogger('silent'));
  t.after(() => joined.stop());
  assert.equal(joined.config.partitions, 8);

  // Writes through the joined api reach the actors of the 8 partitions. Routed with DEFAULT_PARTITIONS instead,
  // some of these chats would go to a partition nobody consumes (8 and above) and time out.
  const app = await call(joined.url!, 'POST', '/applications', { name: 'joined' });
  assert.equal(app.status, 201);
  const token = app.body.token as string;
  const beyond = [];
  for (let n = 1; n <= 12; n++) {
    assert.equal((await call(joined.url!, 'POST', `/applications/${token}/chats`, {})).status, 201);
    if (partitionOf(routingKey.chat(token, n), DEFAULT_PARTITIONS) >= 8) beyond.push(n);
    const message = await call(joined.url!, 'POST', `/applications/${token}/chats/${n}/messages`, { body: `hello ${n}` });
    assert.equal(message.status, 201, JSON.stringify(message.body));
    assert.equal(message.body.number, 1);
  }
  assert.ok(beyond.length > 0, 'the check above must include chats that 16 partitions would route elsewhere');
});

test('the first process of a new deployment started with PARTITIONS=0 sets it up with DEFAULT_PARTITIONS', { timeout: 60_000 }, async (t) => {
  const { namespace, runtime, url } = await startDeployment(t, { env: { PARTITIONS: '0' } });
  assert.equal(runtime.config.partitions, DEFAULT_PARTITIONS);
  assert.equal(runtime.actors!.ownedPartitions.length, DEFAULT_PARTITIONS);
  assert.equal((await call(url, 'POST', '/applications', { name: 'default partitions' })).status, 201);

  // stored: a later process with PARTITIONS=0 takes it
  const later = await startRuntime(testConfig(namespace, { PARTITIONS: '0', ROLES: 'api' }), createLogger('silent'));
  t.after(() => later.stop());
  assert.equal(later.config.partitions, DEFAULT_PARTITIONS);
});
