import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { TopologyMismatchError } from '../../src/messaging/topology.js';
import { startRuntime } from '../../src/runtime.js';
import { Shutdown } from '../../src/shutdown.js';
import { testConfig } from '../support/env.js';
import { call, startDeployment } from '../support/harness.js';

/**
 * Issue 12, item 8: PARTITIONS decides which process is the single writer of a chat, but nothing checked that
 * every process of a deployment used the same value. It is now stored with the streams (topology KV bucket,
 * written once with create()) and a process started with another value refuses to start, clearly.
 */
test('a process started with another PARTITIONS than the deployment refuses to start', { timeout: 60_000 }, async (t) => {
  const { namespace, url } = await startDeployment(t, { env: { PARTITIONS: '8' } });
  assert.equal((await call(url, 'POST', '/applications', { name: 'p8' })).status, 201);

  for (const roles of ['actors', 'api']) {
    const log = createLogger('silent');
    const shutdown = new Shutdown(log);
    const started = startRuntime(testConfig(namespace, { PARTITIONS: '4', ROLES: roles }), log, { shutdown });
    await assert.rejects(started, (err: Error) => {
      assert.ok(err instanceof TopologyMismatchError, String(err));
      assert.match(err.message, /PARTITIONS=4/);
      assert.match(err.message, /PARTITIONS=8/);
      return true;
    });
    await shutdown.run();
  }

  // the same value is accepted (a second process of the deployment)
  const log = createLogger('silent');
  const same = await startRuntime(testConfig(namespace, { PARTITIONS: '8', ROLES: 'api' }), log);
  t.after(() => same.stop());
  assert.equal((await call(same.url!, 'POST', '/applications', { name: 'p8 again' })).status, 201);
});
