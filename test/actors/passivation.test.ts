import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, startDeployment, waitFor } from '../support/harness.js';
import { range } from '../support/db.js';

/**
 * Messages to thousands of distinct chats: live actors stay bounded (LRU passivation beyond
 * ACTOR_MAX_ACTIVE per process, whatever the number of partitions; idle passivation after ACTOR_IDLE_MS), memory stays bounded, and a
 * passivated chat continues its numbering when it wakes.
 */
test('actors are passivated: bounded live actors and memory; numbering continues after wake-up', { timeout: 240_000 }, async (t) => {
  const partitions = 4;
  const maxActive = 200;
  const { url, runtime } = await startDeployment(t, {
    env: { PARTITIONS: String(partitions), ACTOR_MAX_ACTIVE: String(maxActive), ACTOR_IDLE_MS: '2000' },
  });
  const actors = runtime.actors!;
  const token = (await call(url, 'POST', '/applications', { name: 'many chats' })).body.token as string;

  const chats = 2500;
  let peakActors = 0;
  const gc = (globalThis as { gc?: () => void }).gc; // npm run unit passes --expose-gc
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  async function inParallel(count: number, work: (i: number) => Promise<void>): Promise<void> {
    let next = 1;
    await Promise.all(range(32).map(async () => {
      for (let i = next++; i <= count; i = next++) {
        await work(i);
        peakActors = Math.max(peakActors, actors.liveActors);
      }
    }));
  }
  await inParallel(chats, async () => {
    assert.equal((await call(url, 'POST', `/applications/${token}/chats`)).status, 201);
  });
  await inParallel(chats, async (chat) => {
    const res = await call(url, 'POST', `/applications/${token}/chats/${chat}/messages`, { body: `hello ${chat}` });
    assert.equal(res.status, 201);
    assert.equal(res.body.number, 1);
  });

  const bound = maxActive + 32; // + the actors of requests in flight, which are not idle yet
  assert.ok(peakActors <= bound, `peak live actors ${peakActors} <= ${bound}`);
  assert.ok(actors.stats.activations > chats, 'every chat had an actor');
  assert.ok(actors.stats.passivations >= chats - bound, `passivated ${actors.stats.passivations}`);
  gc?.();
  const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
  // live actors are bounded above; this only guards against memory that grows with the number of chats
  assert.ok(heapGrowthMb < (gc ? 100 : 250), `heap grew ${heapGrowthMb.toFixed(1)} MB`);
  t.diagnostic(`peak live actors ${peakActors}, passivations ${actors.stats.passivations}, heap growth ${heapGrowthMb.toFixed(1)} MB`);

  // idle actors go away entirely
  await waitFor('idle actors to be passivated', async () => actors.liveActors === 0, 30_000, 200);

  // a passivated chat wakes up where it left off
  for (const chat of [1, 777, chats]) {
    const res = await call(url, 'POST', `/applications/${token}/chats/${chat}/messages`, { body: 'again' });
    assert.equal(res.status, 201);
    assert.equal(res.body.number, 2, `chat ${chat} continues at 2`);
  }
});
