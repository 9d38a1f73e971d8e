import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommitter } from '../../src/actors/committer.js';
import { Completer } from '../../src/actors/completer.js';
import { ActorBudget } from '../../src/actors/region.js';
import { StateLoader } from '../../src/actors/state-loader.js';
import { PartitionWorker, type WorkerDeps } from '../../src/actors/partition-worker.js';
import { createLogger } from '../../src/log.js';
import { EventPublisher } from '../../src/messaging/event-publisher.js';
import { names } from '../../src/protocol/subjects.js';
import { ResourceCache } from '../../src/storage/cache.js';
import { Fences } from '../../src/storage/fences.js';
import { Queries } from '../../src/storage/queries.js';
import { REDIS_URL } from '../support/env.js';
import { call, startDeployment } from '../support/harness.js';

/**
 * Issue 12, item 6: `stop('lost')` handed back what it held and unsubscribed at once, while its last pull
 * request could still be open on the server. A command published just then was delivered into the dead inbox
 * and sat there until its ack wait (COMMAND_ACK_WAIT_MS, 30 s by default) — 503s long after the takeover.
 * A draining stop had the same window (a graceful handover answered 503 now and then, issue 7's chaos run).
 * Now a stopping worker holds what arrives, waits until the server has ended its last pull request, and only
 * then hands everything back and unsubscribes.
 *
 * An api-only deployment (no actors role) with workers driven by hand; one partition, so every command goes to it.
 */
test('a command published while a worker stops (lost or draining) is served by the next owner, not after the ack wait', { timeout: 120_000 }, async (t) => {
  const ackWaitMs = 60_000;
  const { url, namespace, config, runtime } = await startDeployment(t, {
    env: { ROLES: 'api', PARTITIONS: '1', COMMAND_ACK_WAIT_MS: String(ackWaitMs), COMMAND_TIMEOUT_MS: '20000' },
  });
  const nc = runtime.nc!;
  const orm = runtime.orm!;
  const log = createLogger('silent');
  const cache = ResourceCache.connect(REDIS_URL, namespace, config.cacheTtlSeconds, log);
  t.after(() => cache.close());
  const ns = names(namespace);
  const queries = new Queries(orm);
  const deps: WorkerDeps = {
    nc, names: ns, config, log, orm,
    committer: new GroupCommitter(orm, { batchMax: 500, batchBytes: 1 << 20, pipeline: 2 }),
    budget: new ActorBudget(1000),
    base: { queries, loader: new StateLoader(queries), completer: new Completer(cache, new EventPublisher(nc.jetstream(), ns, 1 << 19), log), cache },
  };
  const fences = new Fences(orm);
  const startWorker = async (): Promise<PartitionWorker> => {
    const worker = new PartitionWorker(0, await fences.advance(0, 'test'), deps);
    await worker.start();
    return worker;
  };

  let current = await startWorker();
  assert.equal((await call(url, 'POST', '/applications', { name: 'before' })).status, 201);
  const rounds = [
    { reason: 'lost', publish: 'after the stop' },
    { reason: 'lost', publish: 'during the stop' },
    { reason: 'drain', publish: 'after the stop' },
    { reason: 'drain', publish: 'during the stop' },
    { reason: 'drain', publish: 'during the stop' },
  ] as const;
  for (const [round, { reason, publish }] of rounds.entries()) {
    await new Promise((r) => setTimeout(r, 300)); // the worker's pull request is open (they last 1 s)
    const started = Date.now();
    let pending: ReturnType<typeof call> | undefined;
    const stopping = current.stop(reason);
    if (publish === 'during the stop') pending = call(url, 'POST', '/applications', { name: `round ${round}` });
    await stopping;
    pending ??= call(url, 'POST', '/applications', { name: `round ${round}` });
    await new Promise((r) => setTimeout(r, 50));
    current = await startWorker();
    const res = await pending;
    const took = Date.now() - started;
    const what = `round ${round} (${reason}, published ${publish})`;
    assert.equal(res.status, 201, `${what}: ${JSON.stringify(res.body)}`);
    assert.ok(took < ackWaitMs / 3, `${what}: served by the next owner after ${took} ms, not after the ack wait`);
  }
  await current.stop('lost');
});
