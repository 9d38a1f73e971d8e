import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { connect, type KV, type NatsConnection } from 'nats';
import { createLogger } from '../../src/log.js';
import { Ownership, backoffDelay, type OwnershipHooks } from '../../src/actors/ownership.js';
import { encodeJson } from '../../src/messaging/nats.js';
import { ownershipBucket } from '../../src/messaging/topology.js';
import { names } from '../../src/protocol/subjects.js';
import { NATS_URL, uniqueName } from '../support/env.js';
import { waitFor } from '../support/harness.js';

/**
 * Issue 12, items 2 and 5 (and the ownership half of item 0), against the real Ownership class and a real NATS
 * KV bucket; the partition workers are stand-ins that record what ownership asks of them.
 *
 * 2: a worker crash reported while a lease renewal was in flight was dropped (`restart` returned early when the
 *    partition was busy): the lease stayed renewed with no worker, for good.
 * 5: a crash reported late by a worker incarnation that has been replaced since must not touch the new one.
 * 0: a worker that cannot start keeps the partition leased and stalled (visible), and is retried with backoff.
 */
interface Worker {
  partition: number;
  /** Like a real worker: stops itself, then reports to ownership. */
  crash: () => void;
  stopped?: 'drain' | 'lost' | 'crashed';
}

class Workers implements OwnershipHooks {
  readonly started: Worker[] = [];
  failing = 0;
  attempts = 0;
  async acquire(partition: number, crashed: () => void): Promise<void> {
    this.attempts++;
    if (this.failing > 0) {
      this.failing--;
      throw new Error('database unavailable (simulated)');
    }
    const worker: Worker = {
      partition,
      crash: () => {
        worker.stopped ??= 'crashed';
        crashed();
      },
    };
    this.started.push(worker);
  }
  async release(partition: number, reason: 'drain' | 'lost'): Promise<void> {
    for (const w of this.started) if (w.partition === partition && !w.stopped) w.stopped = reason;
  }
  running(partition: number): Worker[] {
    return this.started.filter((w) => w.partition === partition && !w.stopped);
  }
}

/** The KV bucket with `update` (lease renewal) held at a gate while `hold` is set. */
function gatedKv(kv: KV): { kv: KV; hold(): void; open(): void; inFlight(): number } {
  let gate: Promise<void> | undefined;
  let openGate = (): void => undefined;
  let inFlight = 0;
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === 'update') {
        return async (...args: Parameters<KV['update']>) => {
          inFlight++;
          try {
            if (gate) await gate;
            return await target.update(...args);
          } finally {
            inFlight--;
          }
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    kv: proxy,
    hold: () => (gate = new Promise((resolve) => (openGate = resolve))),
    open: () => {
      gate = undefined;
      openGate();
    },
    inFlight: () => inFlight,
  };
}

async function setup(t: TestContext, partitions: number, ttlMs = 3000): Promise<{ nc: NatsConnection; kv: KV; ns: ReturnType<typeof names> }> {
  const namespace = uniqueName();
  const ns = names(namespace);
  const nc = await connect({ servers: NATS_URL });
  const kv = await ownershipBucket(nc, ns, { replicas: 1, leaseTtlMs: ttlMs });
  t.after(async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(`KV_${ns.ownershipBucket}`).catch(() => undefined);
    await nc.close();
  });
  return { nc, kv, ns };
}

const log = createLogger('silent');

test('a worker crash reported while its lease renewal is in flight starts a new worker', { timeout: 60_000 }, async (t) => {
  const { kv, ns } = await setup(t, 2);
  const gated = gatedKv(kv);
  const workers = new Workers();
  const ownership = new Ownership(gated.kv, ns, { partitions: 2, ttlMs: 3000, backoffMs: 20, backoffMaxMs: 100 }, workers, log);
  t.after(() => ownership.stop());
  await ownership.start();
  assert.deepEqual(ownership.owned, [0, 1]);
  assert.equal(workers.running(0).length, 1);

  gated.hold();
  await waitFor('a lease renewal in flight', async () => gated.inFlight() > 0, 10_000, 5);
  workers.running(0)[0]!.crash(); // the worker dies while its partition is busy renewing
  assert.ok(ownership.stalled.includes(0), 'the crashed partition is reported stalled at once');
  gated.open();

  await waitFor('a new worker for partition 0', async () => workers.started.filter((w) => w.partition === 0).length === 2, 10_000, 20);
  await waitFor('no partition stalled', async () => ownership.stalled.length === 0, 10_000, 20);
  assert.deepEqual(ownership.owned, [0, 1]);
});

test('a late crash of a replaced worker incarnation is ignored', { timeout: 60_000 }, async (t) => {
  const { kv, ns } = await setup(t, 1);
  const workers = new Workers();
  const ownership = new Ownership(kv, ns, { partitions: 1, ttlMs: 3000, backoffMs: 20, backoffMaxMs: 100 }, workers, log);
  t.after(() => ownership.stop());
  await ownership.start();
  const first = workers.running(0)[0]!;
  first.crash();
  await waitFor('the second incarnation', async () => workers.started.length === 2 && ownership.stalled.length === 0, 10_000, 20);
  const lease = await kv.get(ns.leaseKey(0));

  first.crash(); // the stale incarnation reports (again, late): nothing must happen to the new one
  first.crash();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(workers.started.length, 2, 'no third incarnation');
  assert.equal(workers.running(0).length, 1, 'the second incarnation still runs');
  assert.deepEqual(ownership.stalled, []);
  const after = await kv.get(ns.leaseKey(0));
  assert.equal(after?.operation, 'PUT', 'the lease was not deleted');
  assert.ok(after!.revision >= lease!.revision);
});

test('a partition that cannot start stays leased, is reported stalled and is retried with backoff', { timeout: 60_000 }, async (t) => {
  const { kv, ns } = await setup(t, 2);
  const workers = new Workers();
  workers.failing = 6;
  const ownership = new Ownership(kv, ns, { partitions: 2, ttlMs: 3000, backoffMs: 20, backoffMaxMs: 200 }, workers, log);
  t.after(() => ownership.stop());
  await ownership.start();
  assert.deepEqual(ownership.owned, [0, 1], 'the leases are kept while the workers cannot start');
  assert.ok(ownership.stalled.length > 0, 'and reported stalled');
  await waitFor('both partitions running', async () => workers.running(0).length === 1 && workers.running(1).length === 1, 20_000, 20);
  assert.deepEqual(ownership.stalled, []);
  assert.equal(workers.attempts, 8, 'one attempt per failure, then one success per partition');
});

test('backoff: exponential, jittered in [d/2, d], capped', () => {
  assert.equal(backoffDelay(1, 100, 5000, () => 1), 100);
  assert.equal(backoffDelay(1, 100, 5000, () => 0), 50);
  assert.equal(backoffDelay(4, 100, 5000, () => 1), 800);
  assert.equal(backoffDelay(50, 100, 5000, () => 1), 5000);
  assert.equal(backoffDelay(50, 100, 5000, () => 0), 2500);
});

test('dead members are forgotten (their heartbeats expire without a watch event)', { timeout: 60_000 }, async (t) => {
  const { kv, ns } = await setup(t, 1, 1000);
  const workers = new Workers();
  const ownership = new Ownership(kv, ns, { partitions: 1, ttlMs: 1000, backoffMs: 20, backoffMaxMs: 100 }, workers, log);
  t.after(() => ownership.stop());
  await ownership.start();
  for (let i = 0; i < 20; i++) await kv.put(ns.memberKey(`ghost-${i}`), encodeJson({ id: `ghost-${i}` }));
  await waitFor('the ghosts to be seen', async () => ownership.knownMembers >= 21, 5_000, 20);
  await waitFor('the ghosts to be pruned', async () => ownership.knownMembers === 1, 15_000, 50);
});
