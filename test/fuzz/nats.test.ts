import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { connect, headers as natsHeaders } from 'nats';
import { endpoints } from '../../src/nats-api/endpoints.js';
import { NATS_URL } from '../support/env.js';
import { call, startDeployment } from '../support/harness.js';
import { assertErrorBody, assertNoInternals, assertSuccessBody, fuzzParams, fuzzTimeout, nastyNumber, nastyString, seedData } from './support.js';

/**
 * Property-based fuzzing of every NATS subject (issue 8): random and adversarial payloads (JSON of any shape,
 * out-of-range numbers, lone surrogates, bytes that are not UTF-8) and headers. Never a 5xx; errors carry
 * `Nats-Service-Error-Code` and a `{ error, message }` body without internals; the process stays up and the
 * pre-existing data is unchanged. `FUZZ_RUNS=N` for a longer run.
 */
test('fuzz: every NATS subject', { timeout: fuzzTimeout }, async (t) => {
  const deployment = await startDeployment(t);
  const { seed, play, snapshot } = await seedData(deployment);
  const before = await snapshot();
  const nc = await connect({ servers: NATS_URL });
  t.after(() => nc.close());
  const encoder = new TextEncoder();

  const value = fc.oneof(nastyString(), nastyNumber(), fc.constant(null), fc.boolean(), fc.jsonValue({ maxDepth: 2 }));
  const field = (name: string): fc.Arbitrary<unknown> => {
    switch (name) {
      case 'token': return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(seed, play) }, { weight: 1, arbitrary: value });
      case 'chat_number': case 'message_number': case 'number': case 'after':
        return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(1, 2, 3) }, { weight: 2, arbitrary: nastyNumber() });
      case 'limit': return fc.oneof(fc.constantFrom(1, 1000, 1001, 0), nastyNumber());
      default: return fc.oneof({ weight: 3, arbitrary: nastyString() }, { weight: 1, arbitrary: value });
    }
  };
  const knownFields = ['token', 'chat_number', 'message_number', 'number', 'name', 'body', 'query', 'limit', 'after'];
  const object = fc.tuple(fc.subarray(knownFields), fc.dictionary(fc.string({ maxLength: 10 }), value, { maxKeys: 2 }))
    .chain(([names, extra]) => fc.tuple(...names.map((n) => field(n))).map((values) => ({ ...extra, ...Object.fromEntries(names.map((n, i) => [n, values[i]])) })));
  /** JSON text, with the forms JSON.stringify cannot produce: huge exponents and escaped lone surrogates. */
  const json = object.map((o) => JSON.stringify(o));
  const payload = fc.oneof(
    { weight: 6, arbitrary: json.map((s) => encoder.encode(s)) },
    { weight: 1, arbitrary: json.map((s) => encoder.encode(s.replace(/:(\d+)([,}])/, ':1e400$2').replace(/:1([,}])/, ':1e300$1'))) },
    { weight: 1, arbitrary: json.map((s) => encoder.encode(s.replace(/"([^"\\]{0,8})"/, '"$1\\ud800"'))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 120 }) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => encoder.encode(JSON.stringify(v) ?? '')) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '"x"', '1e400', '{"token":1e400}', '\xff\xfe').map((s) => Buffer.from(s, 'latin1')) },
  );
  const hdrs = fc.dictionary(
    fc.constantFrom('Idempotency-Key', 'X-Request-Id', 'Content-Type'),
    fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary-ascii', maxLength: 20 })).map((s) => s.replace(/[\r\n\0:]/g, '')),
    { maxKeys: 2 },
  );
  const subjects = endpoints.map((e) => e.subject);

  await fc.assert(fc.asyncProperty(fc.constantFrom(...subjects), payload, hdrs, async (subject, data, h) => {
    // the seed application is only read; writes go to the playground
    const write = /\.(create|update)$/.test(subject);
    const bytes = write ? Buffer.from(Buffer.from(data).toString('latin1').split(seed).join(play), 'latin1') : data;
    const headers = natsHeaders();
    for (const [k, v] of Object.entries(h)) if (v.trim() !== '') headers.set(k, v);
    const reply = await nc.request(`${deployment.namespace}.api.v1.${subject}`, bytes, { timeout: 15_000, headers });
    const what = `${subject} ${Buffer.from(data).toString('latin1').slice(0, 160)}`;
    const code = reply.headers?.get('Nats-Service-Error-Code');
    const text = new TextDecoder().decode(reply.data);
    assertNoInternals(text, what);
    const body = text ? JSON.parse(text) : undefined;
    if (code) {
      assert.ok(Number(code) >= 400 && Number(code) < 500, `${what} → ${code} ${text.slice(0, 200)}`);
      assert.ok(reply.headers?.get('Nats-Service-Error'), `${what}: Nats-Service-Error`);
      assertErrorBody(body, what);
    } else {
      assertSuccessBody(body, what);
    }
  }), fuzzParams(300));

  assert.equal((await call(deployment.url, 'GET', '/health/ready')).status, 200, 'the process is up and ready');
  assert.equal(await snapshot(), before, 'pre-existing data unchanged');
});
