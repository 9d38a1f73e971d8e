import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from 'nats';
import { periodicDuty } from '../../src/messaging/topology.js';
import { names } from '../../src/protocol/subjects.js';
import { NATS_URL, uniqueName } from '../support/env.js';

/**
 * Issue 12, item 10 (unbounded work). The ownership `members` map is pruned (test/regressions/issue-12-2.test.ts);
 * here: only one projections process runs the counters reconciliation per interval. (The U+FDD0 verification
 * loop of search this test also capped is gone: the n-gram index answers every query exactly.)
 */

test('the counters reconciliation runs in one process per interval', { timeout: 30_000 }, async (t) => {
  const ns = names(uniqueName());
  const ncs = await Promise.all([0, 1, 2].map(() => connect({ servers: NATS_URL })));
  t.after(async () => {
    const jsm = await ncs[0]!.jetstreamManager();
    await jsm.streams.delete(`KV_${ns.topologyBucket}`).catch(() => undefined);
    await Promise.all(ncs.map((nc) => nc.close()));
  });
  const interval = 1500;
  const duties = ncs.map((nc) => periodicDuty(nc, ns, 'counter-reconciliation', interval, 1));
  const winners = async (): Promise<number> => (await Promise.all(duties.map((d) => d()))).filter(Boolean).length;
  assert.equal(await winners(), 1, 'one of three processes runs the first pass');
  assert.equal(await winners(), 0, 'nobody runs again within the interval');
  await new Promise((r) => setTimeout(r, interval + 100));
  assert.equal(await winners(), 1, 'one runs the next period');
});
