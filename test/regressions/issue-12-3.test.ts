import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Actor } from '../../src/actors/actor.js';
import { ActorBudget, Region } from '../../src/actors/region.js';

/**
 * Issue 12, item 3: `Region.get()` inserted the new actor and `shrink()` could passivate it at once (it is idle
 * until its command is told) when every older actor was busy; the next command for the same key then started a
 * second incarnation beside the first. The actor being returned must never be passivated.
 */
class Probe extends Actor {
  static incarnations = 0;
  constructor() {
    super();
    Probe.incarnations++;
  }
}

function busy(actor: Actor): () => void {
  let release!: () => void;
  actor.tell(() => new Promise<void>((resolve) => (release = resolve)));
  return () => release();
}

test('the actor a region returns is never passivated by the LRU bound, even when every other actor is busy', async () => {
  Probe.incarnations = 0;
  const region = new Region<Probe>(() => new Probe(), 60_000, new ActorBudget(2));
  const releases = [busy(region.get('a')), busy(region.get('b'))];
  assert.equal(region.size, 2);

  const first = region.get('c'); // over the bound; a and b are busy, c is idle until its command is told
  const second = region.get('c');
  assert.equal(second, first, 'one incarnation per key');
  assert.equal(Probe.incarnations, 3);

  // once the others settle, the bound is enforced again (least recently used idle first)
  for (const release of releases) release();
  await new Promise((r) => setImmediate(r));
  region.get('d');
  assert.ok(region.size <= 3, `region shrinks back once actors are idle (size ${region.size})`);
  assert.equal(region.get('d'), region.get('d'));
});

test('an idle older actor is still passivated to make room', () => {
  const region = new Region<Probe>(() => new Probe(), 60_000, new ActorBudget(1));
  const a = region.get('a');
  region.get('b');
  assert.equal(region.size, 1);
  assert.notEqual(region.get('a'), a, 'a was passivated (idle, least recently used) and starts a new incarnation');
});
