import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnavailableError } from '../../src/domain/errors.js';
import { WriteGate } from '../../src/gateway/write-gate.js';
import { createLogger } from '../../src/log.js';
import { waitFor } from '../support/harness.js';

/** The gate's own logic, driven by a probe the test controls: closed after a failed or hung probe (onClose once per closing), open after a good one. */
test('write gate: closes when the probe fails or hangs, opens again when it answers', { timeout: 20_000 }, async (t) => {
  let answer: 'ok' | 'fail' | 'hang' = 'ok';
  let probes = 0;
  let closings = 0;
  const gate = new WriteGate({
    probe: async () => {
      probes++;
      if (answer === 'fail') throw new Error('ECONNREFUSED');
      if (answer === 'hang') return new Promise<boolean>(() => undefined);
      return true;
    },
    intervalMs: 10, log: createLogger('silent'), onClose: () => closings++,
  });
  t.after(() => gate.stop());
  gate.start();
  await waitFor('a few probes', async () => probes >= 3);
  assert.equal(gate.isOpen, true);
  assert.doesNotThrow(() => gate.check());

  answer = 'fail';
  await waitFor('closed after a failed probe', async () => !gate.isOpen);
  await new Promise((r) => setTimeout(r, 50)); // more failed probes: still one closing
  assert.equal(closings, 1);
  assert.throws(() => gate.check(), (err: unknown) => err instanceof UnavailableError && err.statusCode === 503 && err.retryAfterSeconds > 0);

  answer = 'ok';
  await waitFor('open after a good probe', async () => gate.isOpen);
  assert.doesNotThrow(() => gate.check());

  answer = 'hang'; // a stalled MySQL: the probe never answers, its timeout closes the gate
  await waitFor('closed after a hung probe', async () => !gate.isOpen, 10_000);
  answer = 'ok';
  await waitFor('open again', async () => gate.isOpen, 10_000);
  assert.equal(closings, 2);
});

test('write gate: interval 0 never probes and stays open', async () => {
  let probes = 0;
  const gate = new WriteGate({
    probe: async () => {
      probes++;
      return false;
    },
    intervalMs: 0, log: createLogger('silent'),
  });
  gate.start();
  await new Promise((r) => setTimeout(r, 50));
  gate.stop();
  assert.equal(probes, 0);
  assert.equal(gate.isOpen, true);
});
