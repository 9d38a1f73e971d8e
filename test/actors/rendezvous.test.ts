/**
 * The assignment of partitions to actors processes (`assignPartitions`, which `Ownership` uses: rendezvous hashing
 * with bounded loads): every partition has exactly one desired owner among the live members, whatever order they
 * are listed in; every member owns an exact share (⌊P/N⌋ or ⌈P/N⌉, so a process that joins always gets work);
 * a member joining or leaving moves little more than the partitions that must move. Pure: no NATS, no KV.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignPartitions } from '../../src/actors/ownership.js';

/** Member ids as `Ownership` mints them (`<host>-<pid>-<6 random>`): they differ in a few characters only. */
const member = (pid: number, suffix = 'a1b2c3'): string => `chat-actors-7d9f-${pid}-${suffix}`;

function counts(owners: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const o of owners) out.set(o, (out.get(o) ?? 0) + 1);
  return out;
}

const moves = (a: string[], b: string[]): number => a.filter((o, p) => o !== b[p]).length;

test('assignment: one owner per partition among the members, the same whatever their order', () => {
  const members = [member(101), member(102), member(103)];
  const owners = assignPartitions(64, members);
  assert.equal(owners.length, 64);
  for (const o of owners) assert.ok(members.includes(o));
  for (const order of [[...members].reverse(), [members[1]!, members[2]!, members[0]!]]) {
    assert.deepEqual(assignPartitions(64, order), owners, 'every process computes the same assignment');
  }
  assert.deepEqual(assignPartitions(64, [member(101)]), Array(64).fill(member(101)), 'a single member owns everything');
});

test('assignment: every member owns an exact share, for any members (ids differing in one character too)', () => {
  let sets = 0;
  for (const partitions of [1, 5, 16, 64, 100]) {
    for (const size of [1, 2, 3, 4, 5, 8]) {
      for (let run = 0; run < 25; run++) {
        const members = Array.from({ length: size }, (_, i) => member(4000 + 97 * run + i, `s${run}x${i}`));
        const spread = counts(assignPartitions(partitions, members));
        const low = Math.floor(partitions / size);
        const high = Math.ceil(partitions / size);
        const shares = members.map((m) => spread.get(m) ?? 0);
        assert.equal(shares.reduce((a, b) => a + b, 0), partitions);
        for (const n of shares) assert.ok(n === low || n === high, `${partitions} partitions over ${size}: shares ${shares.join(',')}`);
        assert.equal(shares.filter((n) => n === high).length, partitions % size || size, `${partitions} over ${size}: ${shares.join(',')}`);
        sets++;
      }
    }
  }
  assert.equal(sets, 5 * 6 * 25);
  const suffixes = ['aaaaaa', 'aaaaab', 'aaaaac'].map((s) => member(7, s));
  assert.deepEqual([...counts(assignPartitions(16, suffixes)).values()].sort(), [5, 5, 6]);
});

test('assignment: a member joining or leaving moves its share and little more', () => {
  let joinMoves = 0, joinIdeal = 0, leaveMoves = 0, leaveIdeal = 0;
  for (let run = 0; run < 50; run++) {
    const before = [member(201, `j${run}`), member(202, `j${run}`), member(203, `j${run}`)];
    const newcomer = member(204, `j${run}`);
    const owners = assignPartitions(64, before);

    const joined = assignPartitions(64, [...before, newcomer]);
    assert.equal(joined.filter((o) => o === newcomer).length, 16, 'the new member gets its share');
    joinMoves += moves(owners, joined);
    joinIdeal += 16;

    const leaver = before[run % 3]!;
    const left = assignPartitions(64, before.filter((m) => m !== leaver));
    for (let p = 0; p < 64; p++) if (owners[p] === leaver) assert.notEqual(left[p], leaver);
    leaveMoves += moves(owners, left);
    leaveIdeal += owners.filter((o) => o === leaver).length;
  }
  // plain rendezvous moved exactly the share; bounded loads move a little more (about 15% measured), never wholesale
  assert.ok(joinMoves <= 1.3 * joinIdeal, `joining: ${joinMoves} partitions moved where ${joinIdeal} had to`);
  assert.ok(leaveMoves <= 1.3 * leaveIdeal, `leaving: ${leaveMoves} partitions moved where ${leaveIdeal} had to`);
});
