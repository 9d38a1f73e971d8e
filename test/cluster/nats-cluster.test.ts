import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageNumbers, openDb, range } from '../support/db.js';
import { call, startDeployment } from '../support/harness.js';
import { startNatsCluster } from '../support/nats-cluster.js';

/**
 * On a 3-node NATS cluster with NATS_REPLICAS=3, losing one NATS server loses nothing: writes go on
 * (retried with their Idempotency-Key while the client reconnects) and numbering stays gapless.
 */
test('a 3-node NATS cluster survives the loss of a server', { timeout: 180_000 }, async (t) => {
  const cluster = await startNatsCluster(3);
  // after-hooks run in registration order: the deployment must stop before its NATS cluster does
  const { url, namespace, runtime } = await startDeployment(t, {
    env: { NATS_URL: cluster.url, NATS_REPLICAS: '3', ROLES: 'api,actors', COMMAND_TIMEOUT_MS: '3000' },
  }).catch(async (err: unknown) => {
    await cluster.stop();
    throw err;
  });
  t.after(() => cluster.stop());
  const db = await openDb(namespace);
  t.after(() => db.end());

  async function create(path: string, body: unknown, key: string): Promise<{ number: number; token: string }> {
    for (let attempt = 0; attempt < 60; attempt++) {
      const res = await call(url, 'POST', path, body, { 'idempotency-key': key });
      if (res.status === 201) return res.body;
      assert.equal(res.status, 503, JSON.stringify(res.body));
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${key} never succeeded`);
  }

  const token = (await create('/applications', { name: 'cluster' }, 'app')).token;
  await create(`/applications/${token}/chats`, {}, 'chat');
  const before = await Promise.all(range(50).map((i) => create(`/applications/${token}/chats/1/messages`, { body: `a${i}` }, `a${i}`)));
  assert.deepEqual(before.map((m) => m.number).sort((a, b) => a - b), range(50));

  // kill the very server the service is connected to
  const connected = runtime.nc!.getServer();
  const victim = cluster.nodes.find((n) => n.url.endsWith(connected.replace(/^.*\/\//, '')));
  assert.ok(victim, `connected to ${connected}`);
  await victim.kill();

  const after = await Promise.all(range(50).map((i) => create(`/applications/${token}/chats/1/messages`, { body: `b${i}` }, `b${i}`)));
  assert.deepEqual(after.map((m) => m.number).sort((a, b) => a - b), range(50).map((n) => n + 50));
  assert.deepEqual(await messageNumbers(db, token, 1), range(100));
});
