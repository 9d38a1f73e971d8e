import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from 'nats';
import { UnavailableError } from '../../src/domain/errors.js';
import { createLogger } from '../../src/log.js';
import { CommandBus } from '../../src/messaging/command-bus.js';
import { names } from '../../src/protocol/subjects.js';
import { Shutdown } from '../../src/shutdown.js';
import { NATS_URL, dropDeployment, uniqueName } from '../support/env.js';
import { startDeployment } from '../support/harness.js';

const log = createLogger('silent');

test('shutdown runs phase by phase (intake → drain → close), whatever the registration order; a failing step does not stop it', async () => {
  const shutdown = new Shutdown(log);
  const ran: string[] = [];
  const step = (name: string) => async (): Promise<void> => {
    ran.push(name);
  };
  shutdown.add('clients', { close: step('clients.close') });
  shutdown.add('api', { intake: step('api.intake'), drain: step('api.drain'), close: step('api.close') });
  shutdown.add('actors', { drain: async () => { ran.push('actors.drain'); throw new Error('boom'); } });
  assert.deepEqual(shutdown.plan, ['intake:api', 'drain:api', 'drain:actors', 'close:clients', 'close:api']);
  await Promise.all([shutdown.run(), shutdown.run()]);
  assert.deepEqual(ran, ['api.intake', 'api.drain', 'actors.drain', 'clients.close', 'api.close']);
});

test('runtime: every role stops taking work before any drains, and clients close last', async (t) => {
  const { runtime } = await startDeployment(t, { keep: true });
  assert.deepEqual(runtime.shutdown.plan, ['intake:api', 'drain:api', 'drain:actors', 'drain:projections', 'close:clients', 'close:api']);
  await runtime.stop();
  assert.ok(runtime.nc.isClosed(), 'NATS closed');
  assert.equal(runtime.app?.server.listening, false, 'HTTP listener closed');
  await dropDeployment(runtime.config.namespace);
});

test('CommandBus.close refuses new requests and settles the ones awaiting a reply', async (t) => {
  const nc = await connect({ servers: NATS_URL });
  t.after(() => nc.close());
  // no actor answers in this namespace (no streams either: the publish is fire-and-forget)
  const bus = new CommandBus(nc, names(uniqueName()), 8, 60_000, log);
  bus.start();
  const pending = bus.request({ type: 'CreateApplication', name: 'x' }, { commandId: 'c1' });
  assert.equal(bus.inFlight, 1);
  const settled = assert.rejects(pending, (err) => err instanceof UnavailableError && err.code === 'timeout');
  const started = Date.now();
  await bus.close(100);
  await settled;
  assert.ok(Date.now() - started < 5000, 'settled at the grace, not at the 60 s timeout');
  assert.equal(bus.inFlight, 0);
  await assert.rejects(bus.request({ type: 'CreateApplication', name: 'y' }, { commandId: 'c2' }), UnavailableError);
});
