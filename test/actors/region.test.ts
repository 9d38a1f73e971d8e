import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Actor } from '../../src/actors/actor.js';
import { ActorBudget, Region } from '../../src/actors/region.js';

class Probe extends Actor {}

test('the live-actor bound is per process: regions share one least-recently-used order', () => {
  const budget = new ActorBudget(3);
  const a = new Region(() => new Probe(), 60_000, budget);
  const b = new Region(() => new Probe(), 60_000, budget);
  const a1 = a.get('a1');
  b.get('b1');
  b.get('b2');
  assert.equal(a.get('a1'), a1, 'a1 is now the most recently used');
  b.get('b3'); // over the bound: the least recently used idle actor, b1, goes
  assert.equal(budget.size, 3);
  assert.deepEqual([a.size, b.size], [1, 2]);
  assert.equal(b.stats.passivations, 1);
  const activations = b.stats.activations;
  b.get('b1'); // passivated above: a new incarnation, which in turn passivates the least recently used idle (b2)
  assert.equal(b.stats.activations, activations + 1, 'b1 was activated again');
  assert.equal(a.get('a1'), a1, 'a1 was used more recently than b2 and is kept');
  assert.equal(b.stats.passivations, 2);
});

test('reaping and clearing keep the process count right', () => {
  const budget = new ActorBudget(10);
  const region = new Region(() => new Probe(), 0, budget);
  region.get('p');
  region.get('q');
  region.reap(Date.now() + 1);
  assert.equal(budget.size, 0);
  region.get('r');
  region.clear();
  assert.equal(budget.size, 0);
  assert.equal(region.size, 0);
});
