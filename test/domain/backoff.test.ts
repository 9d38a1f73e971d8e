import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, retry } from '../../src/domain/backoff.js';

test('retry: retries until success, stops when shouldRetry says no or the retries run out', async () => {
  let calls = 0;
  const retried: number[] = [];
  const value = await retry(async () => {
    if (++calls < 3) throw new Error(`fail ${calls}`);
    return 'ok';
  }, { minMs: 1, maxMs: 5, onRetry: (_err, attempt) => retried.push(attempt) });
  assert.equal(value, 'ok');
  assert.equal(calls, 3);
  assert.deepEqual(retried, [1, 2]);

  calls = 0;
  await assert.rejects(retry(async () => {
    calls++;
    throw new Error('for good');
  }, { minMs: 1, maxMs: 5, shouldRetry: (err) => (err as Error).message !== 'for good' }), /for good/);
  assert.equal(calls, 1);

  calls = 0;
  await assert.rejects(retry(async () => {
    calls++;
    throw new Error('always');
  }, { minMs: 1, maxMs: 5, retries: 2 }), /always/);
  assert.equal(calls, 3);
});

test('backoffDelay: exponential from minMs, capped, jittered in [d/2, d]', () => {
  assert.equal(backoffDelay(1, 100, 5000, () => 1), 100);
  assert.equal(backoffDelay(1, 100, 5000, () => 0), 50);
  assert.equal(backoffDelay(4, 100, 5000, () => 1), 800);
  assert.equal(backoffDelay(50, 100, 5000, () => 1), 5000);
});
