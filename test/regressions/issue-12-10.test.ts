import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from 'nats';
import { periodicDuty } from '../../src/messaging/topology.js';
import { names } from '../../src/protocol/subjects.js';
import type { SearchEngine } from '../../src/search/engine.js';
import { indexNames } from '../../src/search/index-definition.js';
import { MessageSearch, VERIFY_MAX_ROUNDS } from '../../src/search/message-search.js';
import { NATS_URL, uniqueName } from '../support/env.js';

/**
 * Issue 12, item 10 (unbounded work). The ownership `members` map is pruned (test/regressions/issue-12-2.test.ts);
 * here: the U+FDD0 verification loop of search is capped, and only one projections process runs the counters
 * reconciliation per interval.
 */

/** A stand-in engine holding `total` superset hits for a chat; only `matching` ones verify. */
function fakeEngine(total: number, matching: Set<number>): { engine: SearchEngine; calls: () => number } {
  let calls = 0;
  const client = {
    search: async (req: { size: number; query: { bool: { filter: Array<{ range?: { number: { gt: number } } }> } } }) => {
      calls++;
      const after = req.query.bool.filter.find((f) => f.range)?.range?.number.gt ?? 0;
      const hits = [];
      for (let n = after + 1; n <= Math.min(total, after + req.size); n++) {
        hits.push({ _source: { number: n, body: `m${n}`, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z', body_lc: matching.has(n) ? 'a\\b' : 'a?b' } });
      }
      return { hits: { hits } };
    },
  };
  return { engine: { client } as unknown as SearchEngine, calls: () => calls };
}

test('a U+FDD0 search scans at most VERIFY_MAX_ROUNDS rounds per request and continues with a cursor', async () => {
  const total = 50_000;
  const { engine, calls } = fakeEngine(total, new Set([3, 25_000]));
  const search = new MessageSearch(engine, indexNames('t'));
  const first = await search.search('tok', 1, '\uFDD0', 0, 50);
  assert.deepEqual(first.items.map((m) => m.number), [3]);
  assert.equal(calls(), VERIFY_MAX_ROUNDS, 'the scan stops at its cap');
  assert.ok(first.next !== undefined, 'with a cursor to read on');
  // reading on finds the other match, and every request stays bounded
  const found = [...first.items.map((m) => m.number)];
  let next: string | undefined = first.next;
  let requests = 1;
  while (next !== undefined) {
    const before = calls();
    const page = await search.search('tok', 1, '\uFDD0', Number(next), 50);
    assert.ok(calls() - before <= VERIFY_MAX_ROUNDS);
    found.push(...page.items.map((m) => m.number));
    next = page.next;
    requests++;
  }
  assert.deepEqual(found, [3, 25_000]);
  assert.ok(requests >= total / (1000 * VERIFY_MAX_ROUNDS));
});

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
