import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { call, startDeployment } from '../support/harness.js';
import { rawHttp } from '../support/raw-http.js';
import { assertErrorBody, assertNoInternals, assertSuccessBody, fuzzParams, fuzzTimeout, nastyNumber, nastyString, seedData, toJsonText } from './support.js';

/**
 * Property-based fuzzing of every HTTP route (issue 8): random and adversarial paths, query strings, headers and
 * bodies. Whatever arrives: never a 5xx, errors are JSON `{ error, message }` with X-Request-Id, no internal ids
 * or stack text, the process stays up and the pre-existing data is unchanged. `FUZZ_RUNS=N` for a longer run.
 */

const ROUTES = [
  '/applications',
  '/applications/:token',
  '/applications/:token/chats',
  '/applications/:token/chats/:number',
  '/applications/:token/chats/:number/messages',
  '/applications/:token/chats/:number/messages/search',
  '/applications/:token/chats/:number/messages/:mnumber',
  '/health/live', '/health/ready', '/openapi.json', '/docs', '/metrics',
];
/** Percent-encoding of any string (surrogates, which encodeURIComponent refuses, become é). */
const enc = (s: string): string => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\u00e9'));
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', 'TRACE'];

test('fuzz: HTTP routes through app.inject', { timeout: fuzzTimeout }, async (t) => {
  const deployment = await startDeployment(t);
  const app = deployment.runtime.app!;
  const { seed, play, snapshot } = await seedData(deployment);
  const before = await snapshot();

  const segment = (kind: 'token' | 'number'): fc.Arbitrary<string> => fc.oneof(
    { weight: 4, arbitrary: kind === 'token' ? fc.constantFrom(seed, play) : fc.constantFrom('1', '2', '3') },
    { weight: 2, arbitrary: nastyString().map(enc) },
    { weight: 1, arbitrary: nastyString().map((s) => s.replace(/[/?#\s]/g, '')) },
    { weight: 1, arbitrary: fc.oneof(fc.nat().map(String), fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String)) },
  );
  const path = fc.tuple(fc.constantFrom(...ROUTES), segment('token'), segment('number'), segment('number'), fc.constantFrom('', '/', '//', '/extra'))
    .map(([route, token, number, mnumber, tail]) => route.replace(':token', token).replace(':number', number).replace(':mnumber', mnumber) + (tail === '' || Math.random() < 0.8 ? '' : tail));
  const queryValue = fc.oneof(nastyString().map(enc), fc.constantFrom('1', '0', '1000', '1001', '1e3', '-1', '%E9', '%ED%A0%80', '9007199254740993', '%', 'a+b'));
  const query = fc.dictionary(fc.constantFrom('limit', 'after', 'query', 'x', 'limit[]', 'query'), queryValue, { maxKeys: 4 })
    .map((q) => Object.entries(q).map(([k, v]) => `${k}=${v}`).join('&'));
  const headerValue = fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 80 }).map((s) => s.replace(/[\r\n\0]/g, '')), fc.constantFrom('gzip', 'identity', 'br', '100-continue', 'Bearer x', 'https://evil.example'));
  const headers = fc.dictionary(
    fc.constantFrom('idempotency-key', 'x-request-id', 'content-encoding', 'authorization', 'origin', 'accept', 'accept-encoding', 'range', 'if-none-match', 'x-forwarded-for', 'cookie'),
    headerValue, { maxKeys: 4 },
  );
  const contentType = fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/merge-patch+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset="UTF-8"', ';;;');
  const jsonBody = fc.oneof(
    fc.record({ name: fc.oneof(nastyString(), nastyNumber(), fc.constant(null)) }, { requiredKeys: [] }),
    fc.record({ body: fc.oneof(nastyString(), nastyNumber(), fc.constant(null)) }, { requiredKeys: [] }),
    fc.jsonValue({ maxDepth: 3 }),
  ).map((v) => toJsonText(v));
  const body = fc.oneof(
    fc.constant(undefined),
    jsonBody,
    jsonBody.map((s) => s.replace(/\\u([0-9a-f]{4})/gi, (_m, hex: string) => `\\u${hex}`)),
    fc.constantFrom('{"body":"a\\ud800b"}', '{"name":"\\udfff"}', '{"name":', '[', '{"__proto__":{"x":1},"name":"p"}', '{"name":"x","name":"y"}', '{"body":"' + 'x'.repeat(20_000) + '"}'),
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  );

  await fc.assert(fc.asyncProperty(fc.constantFrom(...METHODS), path, query, headers, contentType, body, async (method, p, q, h, type, payload) => {
    // the seed application is only read; writes go to the playground
    const target = ['GET', 'HEAD', 'OPTIONS'].includes(method) ? p : p.split(seed).join(play);
    const url = q ? `${target}?${q}` : target;
    let res;
    try {
      res = await app.inject({
        method: method as 'GET', url,
        headers: { ...h, ...(type ? { 'content-type': type } : {}) },
        ...(payload !== undefined && method !== 'GET' && method !== 'HEAD' ? { payload } : {}),
      });
    } catch (err) {
      // light-my-request refusing to build the request (an invalid URL or header) is not a server response
      if (/Invalid|ERR_INVALID|ERR_UNESCAPED/.test(String((err as Error).message ?? err) + String((err as { code?: string }).code))) return;
      throw err;
    }
    const what = `${method} ${url.slice(0, 150)}`;
    assert.ok(res.statusCode < 500, `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`);
    assert.ok(res.headers['x-request-id'], `${what}: X-Request-Id`);
    if (method === 'HEAD') return;
    assertNoInternals(res.body, what);
    const json = /json/.test(String(res.headers['content-type'] ?? '')) && res.body ? res.json() : undefined;
    if (res.statusCode >= 400) assertErrorBody(json, what);
    else if (json !== undefined && target.startsWith('/applications')) assertSuccessBody(json, what);
  }), fuzzParams(400));

  assert.equal((await call(deployment.url, 'GET', '/health/ready')).status, 200, 'the process is up and ready');
  assert.equal(await snapshot(), before, 'pre-existing data unchanged');
});

test('fuzz: raw HTTP over real sockets (request line, headers, framing)', { timeout: fuzzTimeout }, async (t) => {
  const deployment = await startDeployment(t);
  const { seed, snapshot } = await seedData(deployment);
  const before = await snapshot();
  const noCrLf = (s: string): string => s.replace(/[\r\n]/g, '');
  const method = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'FOO', 'get', 'G ET', 'GET\t', 'GET\x00', ''), fc.string({ unit: 'binary-ascii', maxLength: 10 }).map(noCrLf));
  const target = fc.oneof(
    fc.constantFrom('/', '/applications', `/applications/${seed}`, `/applications/${seed}/chats/1`, `/applications/${seed}/chats/1/messages/search?query=a b`, '*', 'http://x/applications', '/applications/%', '/a b', '/\x7f', '/applications?limit=%ZZ', `/applications/${seed}/chats/9007199254740993`),
    fc.string({ unit: 'binary-ascii', maxLength: 60 }).map(noCrLf).map((s) => `/${s}`),
    fc.string({ unit: 'binary', maxLength: 30 }).map((s) => `/applications/${s}`),
  );
  const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0', 'HTTP/9', 'http/1.1', '');
  const header = fc.tuple(
    fc.oneof(fc.constantFrom('X-Request-Id', 'Idempotency-Key', 'Content-Type', 'Accept', 'Origin', 'X A', 'X\x01', 'X-Long', ''), fc.string({ unit: 'binary-ascii', maxLength: 12 }).map(noCrLf)),
    fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 60 }).map(noCrLf), fc.string({ unit: 'binary', maxLength: 20 }).map(noCrLf), fc.constant('x'.repeat(70_000))),
  ).filter(([name]) => !/^(content-length|transfer-encoding|expect|connection|upgrade|host)$/i.test(name.trim()));
  const bodyText = fc.oneof(fc.constant(''), fc.constantFrom('{"name":"raw"}', '{"body":"x"}', '{'), fc.string({ unit: 'binary', maxLength: 50 }));

  await fc.assert(fc.asyncProperty(method, target, version, fc.array(header, { maxLength: 3 }), bodyText, async (m, tgt, v, hs, b) => {
    // the seed is never written: writes go to a token that does not exist
    const path = ['GET', 'OPTIONS', 'HEAD'].includes(m) ? tgt : tgt.split(seed).join('nope');
    const payload = Buffer.from(b);
    const head = `${m} ${path} ${v}\r\nHost: x\r\n${hs.map(([k, val]) => `${k}: ${val}\r\n`).join('')}Content-Length: ${payload.length}\r\nConnection: close\r\n\r\n`;
    const res = await rawHttp(deployment.url, Buffer.concat([Buffer.from(head, 'utf8'), payload]), 20_000);
    const what = JSON.stringify(head.slice(0, 160));
    assert.ok(res.status >= 100 && res.status < 500, `${what} → ${res.status} ${res.text.slice(0, 200)}`);
    assert.ok(res.headers['x-request-id'], `${what}: X-Request-Id`);
    if (m === 'HEAD' || res.status < 400) return;
    assert.match(res.headers['content-type'] ?? '', /^application\/json/, what);
    assertErrorBody(res.json, what);
    assertNoInternals(res.text, what);
  }), fuzzParams(150));

  assert.equal((await call(deployment.url, 'GET', '/health/ready')).status, 200, 'the process is up and ready');
  assert.equal(await snapshot(), before, 'pre-existing data unchanged');
});
