/**
 * Region (src/actors/region.ts) alone: activation by key, idle passivation, and the process-wide bound that never
 * passivates a busy actor (mailbox not empty, or writes not committed) nor the one being activated. No NATS, no MySQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Actor } from '../../src/actors/actor.js';
import { ActorBudget, Region } from '../../src/actors/region.js';

/** An actor that remembers the address it was activated for. */
class Probe extends Actor {
  constructor(readonly key: string) {
    super();
  }
}

function region(maxActive = 100, idleMs = 60_000, budget = new ActorBudget(maxActive)): Region<Probe> {
  return new Region((key: string) => new Probe(key), idleMs, budget);
}

/** A task that keeps the actor's mailbox busy until `release()`. */
function block(actor: Actor): () => Promise<void> {
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    actor.tell(() => new Promise<void>((r) => {
      release = () => {
        r();
        resolve();
      };
    }));
  });
  return async () => {
    release();
    await done;
    await new Promise((r) => setImmediate(r));
  };
}

test('region: one actor per key, activated on first use and kept while used', () => {
  const r = region();
  const a = r.get('chat.t.1');
  assert.equal(a.key, 'chat.t.1');
  assert.equal(r.get('chat.t.1'), a, 'the same incarnation for the same key');
  assert.notEqual(r.get('chat.t.2'), a);
  assert.equal(r.size, 2);
  assert.deepEqual(r.stats, { activations: 2, passivations: 0 });
});

test('region: reap passivates actors idle for idleMs, oldest first, and only idle ones', async () => {
  const r = region(100, 1000);
  const old = r.get('old');
  const busy = r.get('busy');
  const recent = r.get('recent');
  const t0 = Date.now();
  old.lastUsed = t0 - 5000;
  busy.lastUsed = t0 - 4000;
  recent.lastUsed = t0;
  const release = block(busy); // tell() marks it used: age it again
  busy.lastUsed = t0 - 4000;
  r.reap(t0);
  assert.equal(r.size, 2, 'the old idle actor went; the busy one and the recent one stay');
  assert.equal(r.get('busy'), busy, 'a busy actor is never passivated');
  assert.equal(r.stats.passivations, 1);
  assert.notEqual(r.get('old'), old, 'the next command for a passivated key starts a new incarnation');
  assert.equal(r.stats.activations, 4);
  await release();
});

test('region: the bound never passivates a busy actor or the one being activated; it comes back once they settle', async () => {
  const budget = new ActorBudget(2);
  const r = region(2, 60_000, budget);
  const a = r.get('a');
  const b = r.get('b');
  const release = block(a);
  b.pendingWrites = 1; // handed to the committer, not committed yet
  const c = r.get('c'); // over the bound, but a and b are busy and c is the one activated
  assert.equal(budget.size, 3, 'above the bound while the older actors are busy');
  assert.equal(r.get('c'), c);
  assert.equal(r.stats.passivations, 0);

  b.pendingWrites = 0;
  await release();
  r.get('d'); // the next activation brings the process back to the bound, least recently used first
  assert.equal(budget.size, 2);
  assert.equal(r.stats.passivations, 2);
  assert.equal(r.get('d').key, 'd');
  assert.equal(r.get('c'), c, 'c was used after a and b: it stays');
});

test('region: a stale passivation (the key has a newer incarnation) changes nothing', () => {
  const budget = new ActorBudget(10);
  const r = region(10, 0, budget);
  const first = r.get('k');
  r.passivate('k', first);
  const second = r.get('k');
  r.passivate('k', first); // e.g. the budget still held the old incarnation
  assert.equal(r.get('k'), second);
  assert.equal(r.size, 1);
  assert.equal(budget.size, 1);
  assert.deepEqual(r.stats, { activations: 2, passivations: 1 });
});
