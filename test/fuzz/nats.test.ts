import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { connect, headers as natsHeaders } from 'nats';
import { endpoints } from '../../src/nats-api/endpoints.js';
import { NATS_URL } from '../support/env.js';
import { call, startDeployment } from '../support/harness.js';
import { assertErrorBody, assertNoInternals, assertSuccessBody, fuzzParams, fuzzTimeout, nastyNumber, nastyString, rawNumberLiteral, seedData, toJsonText } from './support.js';

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
  const nasty = (name: string): fc.Arbitrary<unknown> => {
    switch (name) {
      case 'token': return fc.oneof(fc.constantFrom(seed, play), value);
      case 'chat_number': case 'message_number': case 'number': case 'after': case 'limit':
        return fc.oneof({ weight: 2, arbitrary: rawNumberLiteral() }, { weight: 2, arbitrary: nastyNumber() }, { weight: 1, arbitrary: value });
      default: return fc.oneof({ weight: 3, arbitrary: nastyString() }, { weight: 1, arbitrary: value });
    }
  };
  /** A valid request of each subject, which the fuzzer then mutates (a few fields nasty, some dropped, extras added). */
  const valid: Record<string, unknown> = { token: seed, chat_number: 1, message_number: 1, number: 1, name: 'fuzz', body: 'fuzz', query: 'seed', limit: 10, after: 0 };
  const knownFields = Object.keys(valid);
  const requestFor = (subject: string): fc.Arbitrary<Record<string, unknown>> => {
    const properties = Object.keys((endpoints.find((e) => e.subject === subject)!.schema as { properties: object }).properties);
    const base = Object.fromEntries(properties.map((p) => [p, valid[p]]));
    return fc.tuple(
      fc.oneof({ weight: 4, arbitrary: fc.subarray(properties, { minLength: 1, maxLength: Math.min(2, properties.length) }) }, { weight: 1, arbitrary: fc.subarray(knownFields, { minLength: 1, maxLength: 3 }) }).chain((names) => fc.tuple(...names.map((n) => nasty(n))).map((vals) => Object.fromEntries(names.map((n, i) => [n, vals[i]])))),
      fc.subarray(properties, { maxLength: 1 }),
      fc.dictionary(fc.string({ maxLength: 10 }), value, { maxKeys: 2 }),
    ).map(([mutated, dropped, extra]) => {
      const out: Record<string, unknown> = { ...extra, ...base, ...mutated };
      for (const d of dropped) delete out[d];
      return out;
    });
  };
  /** JSON text, with the forms JSON.stringify cannot produce: huge number literals and escaped lone surrogates. */
  const subjects = endpoints.map((e) => e.subject);
  const subjectAndJson = fc.constantFrom(...subjects).chain((subject) => fc.tuple(fc.constant(subject), requestFor(subject).map((o) => toJsonText(o))));
  const payload = (json: string): fc.Arbitrary<Uint8Array> => fc.oneof(
    { weight: 6, arbitrary: fc.constant(encoder.encode(json)) },
    { weight: 1, arbitrary: fc.constant(encoder.encode(json.replace(/"([^"\\]{0,8})"/, '"$1\\ud800"'))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 120 }) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => encoder.encode(JSON.stringify(v) ?? '')) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '"x"', '1e400', '{"token":1e400}', '\xff\xfe').map((s) => Buffer.from(s, 'latin1')) },
  );
  const hdrs = fc.dictionary(
    fc.constantFrom('Idempotency-Key', 'X-Request-Id', 'Content-Type'),
    fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary-ascii', maxLength: 20 })).map((s) => s.replace(/[\r\n\0:]/g, '')),
    { maxKeys: 2 },
  );
  const request = subjectAndJson.chain(([subject, json]) => fc.tuple(fc.constant(subject), payload(json)));

  await fc.assert(fc.asyncProperty(request, hdrs, async ([subject, data], h) => {
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
