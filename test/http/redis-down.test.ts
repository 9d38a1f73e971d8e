import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { operator } from '../support/env.js';
import { call, startDeployment, waitFor } from '../support/harness.js';
import { freePort } from '../support/ports.js';


/** The read cache is best effort: with Redis gone, reads (and writes) are served from MySQL. */
test('Redis stopped: reads still work', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = once(redis, 'exit');
  t.after(async () => {
    if (redis.exitCode === null && redis.signalCode === null) {
      redis.kill('SIGKILL');
      await exited;
    }
  });
  await waitFor('redis up', async () => {
    try {
      const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    } catch {
      return false;
    }
  });

  const { url } = await startDeployment(t, { env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
  const app = await call(url, 'POST', '/applications', { name: 'cached' });
  const token = app.body.token as string;
  const chat = await call(url, 'POST', `/applications/${token}/chats`, { name: 'c' });
  const message = await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: 'hello' });
  assert.deepEqual([app.status, chat.status, message.status], [201, 201, 201]);
  const paths = [`/applications/${token}`, `/applications/${token}/chats/1`, `/applications/${token}/chats/1/messages/1`];
  for (const p of paths) assert.equal((await call(url, 'GET', p)).status, 200, `${p} with Redis up`);

  redis.kill('SIGKILL');
  await exited;

  for (const p of [...paths, `/applications/${token}/chats`, `/applications/${token}/chats/1/messages`, '/applications']) {
    const res = await call(url, 'GET', p, undefined, operator);
    assert.equal(res.status, 200, `${p} with Redis down: ${JSON.stringify(res.body)}`);
  }
  assert.equal((await call(url, 'GET', `/applications/${token}`)).body.name, 'cached');
  assert.equal((await call(url, 'GET', `/applications/${token}/chats/1/messages/1`)).body.body, 'hello');
  // writes go on, and are readable at once (read-your-writes without the cache)
  const edited = await call(url, 'PUT', `/applications/${token}/chats/1/messages/1`, { body: 'edited' });
  assert.equal(edited.status, 200);
  assert.equal((await call(url, 'GET', `/applications/${token}/chats/1/messages/1`)).body.body, 'edited');
  const second = await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: 'second' });
  assert.equal(second.status, 201);
  assert.equal((await call(url, 'GET', `/applications/${token}/chats/1/messages/${second.body.number}`)).body.body, 'second');
  assert.equal((await call(url, 'GET', '/health/ready')).status, 200, 'Redis is not a readiness dependency');
});
