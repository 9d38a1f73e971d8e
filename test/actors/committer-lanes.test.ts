/**
 * The group committer (src/actors/committer.ts) against the real MariaDB, beyond fencing, byte bounds and ordering
 * (committer.test.ts): the `batchMax` bound and the per-lane counters, a failed transaction failing every lane in it
 * (once, refusing later writes) while the other lanes go on, `abort` dropping what a lane has queued, and
 * `textBytes`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommitter, textBytes, type CommitterOptions } from '../../src/actors/committer.js';
import { CommitFailedError } from '../../src/storage/db-errors.js';
import { committerDb, message, numbers } from '../support/committer.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const options: CommitterOptions = { batchMax: 500, batchBytes: 4 * 1024 * 1024, pipeline: 1 };

test('committer: batchMax bounds a transaction; lanes count their transactions and writes', async (t) => {
  const { orm, db, chatIds } = await committerDb(t, 2);
  const committer = new GroupCommitter(orm, { ...options, batchMax: 7 });
  const lanes = [0, 1].map((p) => committer.lane(p, 1, (err) => assert.fail(`lane ${p} failed: ${String(err)}`)));
  await Promise.all(lanes.flatMap((lane, i) => range(1, 20).map((n) => lane.commit(message(chatIds[i]!, n)))));
  assert.deepEqual(await numbers(db, chatIds[0]!), range(1, 20));
  assert.deepEqual(await numbers(db, chatIds[1]!), range(1, 20));
  assert.equal(committer.writes, 40);
  assert.ok(committer.batches >= Math.ceil(40 / 7), `${committer.batches} transactions of at most 7 writes`);
  assert.deepEqual(lanes.map((l) => l.writes), [20, 20]);
  for (const lane of lanes) assert.ok(lane.batches >= 1 && lane.batches <= committer.batches);
});

test('committer: a failed transaction fails every lane in it, once; those lanes refuse later writes, the others go on', async (t) => {
  const { orm, db, chatIds } = await committerDb(t, 3);
  const committer = new GroupCommitter(orm, options);
  const fatal: Array<[number, unknown]> = [];
  const lanes = [0, 1, 2].map((p) => committer.lane(p, 1, (err) => fatal.push([p, err])));
  await lanes[0]!.commit(message(chatIds[0]!, 1));

  // one transaction holding writes of lanes 0 and 1, one of which breaks a unique key: nothing of it commits
  const results = await Promise.allSettled([
    lanes[0]!.commit(message(chatIds[0]!, 2)),
    lanes[1]!.commit(message(chatIds[1]!, 1)),
    lanes[0]!.commit(message(chatIds[0]!, 1, 'a duplicate number')),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
  for (const r of results) assert.ok(r.status === 'rejected' && r.reason instanceof CommitFailedError, 'the commit failure, wrapped');
  assert.deepEqual(fatal.map(([p]) => p).sort(), [0, 1], 'each failed lane told its worker once');
  assert.deepEqual(await numbers(db, chatIds[0]!), [1], 'the transaction rolled back as a whole');
  assert.deepEqual(await numbers(db, chatIds[1]!), []);

  assert.ok(lanes[0]!.failed && lanes[1]!.failed && !lanes[2]!.failed);
  await assert.rejects(lanes[1]!.commit(message(chatIds[1]!, 1)), CommitFailedError, 'a failed lane refuses what comes next');
  assert.equal(fatal.length, 2, 'and does not report again');
  await lanes[2]!.commit(message(chatIds[2]!, 1));
  assert.deepEqual(await numbers(db, chatIds[2]!), [1], 'a lane that was not in the transaction commits');
  // a new incarnation of a failed partition (the restarted worker) gets a new lane
  await committer.lane(1, 1, (err) => assert.fail(String(err))).commit(message(chatIds[1]!, 1));
  assert.deepEqual(await numbers(db, chatIds[1]!), [1]);
});

test('committer: abort drops what a lane still has queued, not what another lane has', async (t) => {
  const { orm, db, chatIds } = await committerDb(t, 2);
  const committer = new GroupCommitter(orm, options);
  const stopping = committer.lane(0, 1, (err) => assert.fail(`abort is not a fatal failure: ${String(err)}`));
  const other = committer.lane(1, 1, (err) => assert.fail(String(err)));
  const reason = new Error('worker stopping');
  // the first transaction takes what is queued in this turn; the writes queued behind it wait for the next one
  const first = stopping.commit(message(chatIds[0]!, 1));
  await new Promise((r) => setImmediate(r));
  const queued = range(2, 5).map((n) => stopping.commit(message(chatIds[0]!, n)));
  const others = range(1, 4).map((n) => other.commit(message(chatIds[1]!, n)));
  stopping.abort(reason);
  const settled = await Promise.allSettled([first, ...queued]);
  await Promise.all(others);
  const committed = settled.filter((r) => r.status === 'fulfilled').length;
  for (const r of settled) if (r.status === 'rejected') assert.equal(r.reason, reason);
  assert.ok(settled.some((r) => r.status === 'rejected'), 'queued writes were dropped');
  assert.deepEqual(await numbers(db, chatIds[0]!), range(1, committed), 'what committed is a prefix: nothing after a dropped write');
  assert.deepEqual(await numbers(db, chatIds[1]!), range(1, 4));
  await assert.rejects(stopping.commit(message(chatIds[0]!, 9)), (err) => err === reason);
});

test('committer: textBytes is an upper bound of a text\'s weight in a statement', () => {
  assert.equal(textBytes(''), textBytes('') + 0);
  assert.ok(textBytes('abc') > 6);
  assert.equal(textBytes('😀') - textBytes(''), 8, 'UTF-8 bytes, doubled for escaping');
  assert.equal(textBytes('é'.repeat(10)) - textBytes(''), 40);
});
