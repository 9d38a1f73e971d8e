import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from 'nats';
import { fitPage } from '../../src/nats-api/service.js';
import { NATS_URL } from '../support/env.js';
import { call, startDeployment } from '../support/harness.js';

/**
 * Issue 12, item 4: a NATS `messages.list` of 100 messages of 16 KB (1.6 MB) could not be published under the
 * server's max_payload (1 MiB by default) and was answered `internal_error`. Pages are now cut by bytes too:
 * as many items as fit, with `Chat-Next-After` pointing right after the last one sent.
 */
test('nats messages.list of 100 × 16 KB messages is paged by bytes, not a 500', { timeout: 180_000 }, async (t) => {
  const { url, namespace } = await startDeployment(t);
  const nc = await connect({ servers: NATS_URL });
  t.after(() => nc.close());
  const maxPayload = nc.info!.max_payload;
  const token = (await call(url, 'POST', '/applications', { name: 'big pages' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`)).status, 201);
  const body = (n: number): string => `${String(n).padStart(3, '0')}${'x'.repeat(16_381)}`;
  for (let n = 1; n <= 100; n++) {
    assert.equal((await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: body(n) }, { 'idempotency-key': `m${n}` })).status, 201);
  }
  assert.ok(100 * 16_384 > maxPayload, `the test needs pages above max_payload (${maxPayload})`);

  const seen: number[] = [];
  let after = 0;
  let pages = 0;
  for (;;) {
    const msg = await nc.request(`${namespace}.api.v1.messages.list`, new TextEncoder().encode(JSON.stringify({ token, chat_number: 1, limit: 100, after })), { timeout: 15_000 });
    assert.equal(msg.headers?.get('Nats-Service-Error-Code') ?? '', '', `no error reply: ${msg.headers?.get('Nats-Service-Error')}`);
    assert.ok(msg.data.length <= maxPayload);
    const items = JSON.parse(new TextDecoder().decode(msg.data)) as Array<{ number: number; body: string }>;
    pages++;
    for (const item of items) {
      assert.equal(item.body, body(item.number));
      seen.push(item.number);
    }
    const next = msg.headers?.get('Chat-Next-After');
    if (!next) break;
    assert.equal(Number(next), items[items.length - 1]!.number, 'the cursor continues right after the last item sent');
    after = Number(next);
  }
  assert.ok(pages >= 2, 'more than one page');
  assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i + 1), 'every message once, in order');
});

test('an item larger than max_payload on its own is a clear 413, not a 500', () => {
  const page = { page: { items: [{ number: 1, body: 'y'.repeat(5000) }] }, cursor: (i: unknown) => String((i as { number: number }).number) };
  assert.throws(() => fitPage(page, 2048), (err: Error & { statusCode?: number; code?: string }) => err.statusCode === 413 && err.code === 'payload_too_large' && /limit/.test(err.message));
  const fits = fitPage({ page: { items: [{ number: 1 }, { number: 2 }, { number: 3 }], next: '3' }, cursor: page.cursor }, 1_000_000);
  assert.equal(fits.next, '3');
  assert.deepEqual(JSON.parse(new TextDecoder().decode(fits.body)), [{ number: 1 }, { number: 2 }, { number: 3 }]);
  const cut = fitPage({ page: { items: [{ number: 1 }, { number: 2 }, { number: 3 }], next: '3' }, cursor: page.cursor }, 27);
  assert.equal(cut.next, '2');
  assert.deepEqual(JSON.parse(new TextDecoder().decode(cut.body)), [{ number: 1 }, { number: 2 }]);
});
