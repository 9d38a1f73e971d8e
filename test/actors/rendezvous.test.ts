/**
 * The rendezvous (highest random weight) assignment of partitions to actors processes (`rendezvousOwner`, which
 * `Ownership` uses): every partition has exactly one desired owner among the live members, whatever order they
 * are listed in; the partitions spread over the members; a member joining takes partitions only for itself and
 * a member leaving gives up only its own. Pure: no NATS, no KV.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rendezvousOwner as desiredOwner } from '../../src/actors/ownership.js';

const PARTITIONS = 64;
/** Member ids as `Ownership` mints them (`<host>-<pid>-<6 random>`): they differ in a few characters only. */
const member = (pid: number, suffix = 'a1b2c3'): string => `chat-actors-7d9f-${pid}-${suffix}`;

function assignment(members: string[]): string[] {
  return Array.from({ length: PARTITIONS }, (_, p) => desiredOwner(p, members));
}

function counts(owners: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const o of owners) out.set(o, (out.get(o) ?? 0) + 1);
  return out;
}

test('rendezvous: one owner per partition among the members, the same whatever their order', () => {
  const members = [member(101), member(102), member(103)];
  const owners = assignment(members);
  for (const o of owners) assert.ok(members.includes(o));
  for (const order of [[...members].reverse(), [members[1]!, members[2]!, members[0]!]]) assert.deepEqual(assignment(order), owners, 'every process computes the same assignment');
  assert.deepEqual(assignment([member(101)]), Array(PARTITIONS).fill(member(101)), 'a single member owns everything');
});

test('rendezvous: partitions spread over members whose ids differ in one character', () => {
  for (const size of [2, 3, 4, 8]) {
    const members = Array.from({ length: size }, (_, i) => member(4000 + i));
    const spread = counts(assignment(members));
    assert.equal(spread.size, size, `${size} members: every member owns partitions (${JSON.stringify([...spread.values()])})`);
    // a fair share is 64/size; a hash this good never gives a member less than a third or more than twice of it
    for (const [m, n] of spread) assert.ok(n >= PARTITIONS / size / 3 && n <= (2 * PARTITIONS) / size, `${size} members: ${m} owns ${n}`);
  }
  const suffixes = ['aaaaaa', 'aaaaab', 'aaaaac'].map((s) => member(7, s));
  assert.equal(counts(assignment(suffixes)).size, 3, 'ids differing in their last character still spread');
});

test('rendezvous: a member joining takes partitions only for itself; one leaving gives up only its own', () => {
  const before = [member(201), member(202), member(203)];
  const owners = assignment(before);

  const joined = assignment([...before, member(204)]);
  const moved = joined.map((o, p) => (o === owners[p] ? undefined : p)).filter((p) => p !== undefined);
  assert.ok(moved.length > 0, 'the new member gets a share');
  for (const p of moved) assert.equal(joined[p], member(204), `partition ${p} moved to the new member, not between the old ones`);

  const left = assignment([member(201), member(203)]);
  for (let p = 0; p < PARTITIONS; p++) {
    if (owners[p] === member(202)) assert.notEqual(left[p], member(202));
    else assert.equal(left[p], owners[p], `partition ${p} stays with ${owners[p]} when another member leaves`);
  }
});
