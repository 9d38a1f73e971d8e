import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommitter, textBytes, type CommitterOptions } from '../../src/actors/committer.js';
import { Message } from '../../src/storage/entities/index.js';
import { FencedError } from '../../src/storage/fences.js';
import { committerDb, message, numbers } from '../support/committer.js';

/**
 * The process-wide group committer against the real MariaDB: partitions share transactions, a fenced
 * partition fails only its own writes, batches are bounded by bytes, and each partition's writes commit in
 * order even with several transactions in flight.
 */
const options: CommitterOptions = { batchMax: 500, batchBytes: 4 * 1024 * 1024, pipeline: 2 };

test('writes of several partitions share transactions; a fenced partition fails only its own writes', async (t) => {
  const { orm, db, chatIds } = await committerDb(t, 4);
  const committer = new GroupCommitter(orm, options);
  const fatal: unknown[] = [];
  const lanes = [0, 1, 2, 3].map((p) => committer.lane(p, 1, (err) => fatal.push([p, err])));
  // partition 2 has been taken over by a newer owner
  await db.query('UPDATE partition_fences SET epoch = 2 WHERE partition_no = 2');

  const results = await Promise.allSettled(lanes.flatMap((lane, i) => [1, 2, 3].map((n) => lane.commit(message(chatIds[i]!, n)))));

  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled',
    'rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
  for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof FencedError);
  assert.deepEqual(await numbers(db, chatIds[0]!), [1, 2, 3]);
  assert.deepEqual(await numbers(db, chatIds[1]!), [1, 2, 3]);
  assert.deepEqual(await numbers(db, chatIds[2]!), []);
  assert.deepEqual(await numbers(db, chatIds[3]!), [1, 2, 3]);
  assert.equal(committer.batches, 1, 'the twelve writes went into one transaction');
  assert.equal(fatal.length, 1);
  assert.equal((fatal[0] as [number])[0], 2);
  assert.equal(lanes[2]!.failed, true);
  await assert.rejects(lanes[2]!.commit(message(chatIds[2]!, 4)), FencedError, 'a failed lane refuses later writes');
  await lanes[0]!.commit(message(chatIds[0]!, 4));
  assert.deepEqual(await numbers(db, chatIds[0]!), [1, 2, 3, 4]);
});

test('batches are bounded by bytes: 300 bodies of 64 KiB commit in several transactions, none refused', async (t) => {
  const { orm, db, chatIds } = await committerDb(t, 1);
  // MariaDB's default max_allowed_packet is 16 MiB; the actor system uses a quarter of it
  const committer = new GroupCommitter(orm, { ...options, batchBytes: 4 * 1024 * 1024 });
  const lane = committer.lane(0, 1, (err) => assert.fail(`lane failed: ${String(err)}`));
  const body = '😀'.repeat(16_384); // 16,384 characters of 4 bytes
  await Promise.all(Array.from({ length: 300 }, (_, i) => lane.commit(message(chatIds[0]!, i + 1, body))));
  assert.deepEqual(await numbers(db, chatIds[0]!), Array.from({ length: 300 }, (_, i) => i + 1));
  assert.ok(committer.batches >= 300 * textBytes(body) / (4 * 1024 * 1024), `${committer.batches} transactions`);
});

test('with several transactions in flight, each partition commits in order', async (t) => {
  const { orm, db, chatIds } = await committerDb(t, 4);
  const committer = new GroupCommitter(orm, { ...options, batchMax: 7, pipeline: 3 });
  const lanes = [0, 1, 2, 3].map((p) => committer.lane(p, 1, (err) => assert.fail(`lane ${p} failed: ${String(err)}`)));
  const order = new Map<number, number[]>();
  const writes: Promise<void>[] = [];
  for (let n = 1; n <= 60; n++) {
    for (let i = 0; i < lanes.length; i++) {
      // a write that can only succeed after its predecessor committed: edit the previous message
      const chatId = chatIds[i]!;
      const base = message(chatId, n);
      writes.push(lanes[i]!.commit({
        apply: async (em) => {
          if (n > 1) {
            const previous = await em.findOneOrFail(Message, { chat: chatId, number: n - 1 });
            previous.body = `edited by ${n}`;
          }
          await base.apply(em);
        },
      }).then(() => void order.set(i, [...(order.get(i) ?? []), n])));
    }
    if (n % 5 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(writes);
  for (let i = 0; i < lanes.length; i++) {
    assert.deepEqual(order.get(i), Array.from({ length: 60 }, (_, k) => k + 1));
    assert.deepEqual(await numbers(db, chatIds[i]!), Array.from({ length: 60 }, (_, k) => k + 1));
  }
  assert.ok(committer.batches > 1);
});

test('a commit resolves with what its write returned (the entity it created)', async (t) => {
  const { orm, db, chatIds } = await committerDb(t, 1);
  const committer = new GroupCommitter(orm, options);
  const lane = committer.lane(0, 1, (err) => assert.fail(`lane failed: ${String(err)}`));
  const now = new Date();
  const written = await Promise.all([1, 2].map((number) => lane.commit({
    apply: (em) => em.create(Message, { chat: chatIds[0]!, number, body: `b${number}`, commandId: `r-${number}`, version: 1, createdAt: now, updatedAt: now }),
  })));
  assert.deepEqual(written.map((m) => [m.number, m.body]), [[1, 'b1'], [2, 'b2']]);
  assert.ok(written.every((m) => typeof m.id === 'number' && m.id > 0), 'the ids MySQL assigned are on the entities');
  assert.deepEqual(await numbers(db, chatIds[0]!), [1, 2]);
});
