import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createConnection } from 'node:net';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import mysql from 'mysql2/promise';
import { connect, headers as natsHeaders } from 'nats';
import { createLogger } from '../../src/log.js';
import { SearchEngine } from '../../src/search/engine.js';
import { expectError } from '../support/expect.js';
import { MYSQL_URL, NATS_URL, SEARCH_URL, dropDeployment, uniqueName } from '../support/env.js';
import { call, readResponse, startDeployment, waitFor } from '../support/harness.js';
import { spawnService } from '../support/processes.js';
import { rawHttp } from '../support/raw-http.js';

/** Issue 8, findings 5 and 7–9: logs, headers, errors outside the catalogue, bad numbers and text. */

test('finding 5: tokens are cut to a prefix in every log line, and no message body is logged at info', { timeout: 90_000 }, async (t) => {
  // the service as it runs in production (src/main.ts and its root logger), logging at info to stdout
  const namespace = uniqueName();
  const proc = await spawnService(namespace, { LOG_LEVEL: 'info' });
  t.after(async () => {
    await proc.stop();
    await dropDeployment(namespace);
  });
  const url = proc.url!;
  const token = (await call(url, 'POST', '/applications', { name: 'logged' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`, {})).status, 201);
  const secret = 'the secret message body 4f1d';
  assert.equal((await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: secret })).status, 201);
  assert.equal((await call(url, 'GET', `/applications/${token}/chats/1/messages/1`)).status, 200);
  await call(url, 'GET', `/applications/${token}/chats/1/messages/search?query=${encodeURIComponent('secret message')}`);
  assert.equal((await call(url, 'GET', `/applications/${token}/chats/99`)).status, 404);
  await waitFor('the request lines', async () => proc.output.some((line) => line.includes('/chats/99')));
  const log = proc.output.join('\n');
  assert.ok(log.includes(`/applications/${token.slice(0, 6)}…/chats`), 'request lines keep a short prefix of the token for correlation');
  assert.ok(!log.includes(token), 'no log line holds a whole token');
  const leaking = proc.output.filter((line) => line.includes(secret) || line.includes('secret message') || line.includes('secret%20message'));
  assert.deepEqual(leaking, [], 'no log line holds a message body or a search text');
});

test('finding 5: an error is logged without the data of the call that failed (search request, SQL statement)', async (t) => {
  const lines: string[] = [];
  const log = createLogger('info', new Writable({ write: (chunk, _enc, done) => void (lines.push(String(chunk)), done()) }));
  const secret = 'secret text of a failed call 9c2e';

  // a real search engine error: its `meta` holds the request (the query text) and the response
  const engine = SearchEngine.fromConfig({ elasticsearchUrl: SEARCH_URL, searchEngine: 'auto', searchTimeoutMs: 5000 });
  t.after(() => engine.client.close());
  const searchErr = await engine.client.search({ index: uniqueName('missing-'), query: { match_phrase: { body: secret } } }).then(() => undefined, (err: unknown) => err);
  assert.ok(searchErr instanceof Error && JSON.stringify((searchErr as Error & { meta?: unknown }).meta).includes(secret), 'the engine error carries the query');
  // a real MySQL error: `sql` holds the statement with its values
  const conn = await mysql.createConnection(MYSQL_URL);
  t.after(() => conn.end());
  const sqlErr = await conn.query('SELECT * FROM no_such_db.no_such_table WHERE body = ?', [secret]).then(() => undefined, (err: unknown) => err);
  assert.ok(sqlErr instanceof Error && String((sqlErr as Error & { sql?: string }).sql).includes(secret), 'the MySQL error carries the statement');

  log.warn({ err: searchErr }, 'search failed');
  log.error({ err: sqlErr }, 'query failed');
  log.error({ err: new Error('commit failed', { cause: sqlErr }) }, 'wrapped');
  log.error({ err: new AggregateError([searchErr, sqlErr], 'both') }, 'aggregate');
  assert.equal(lines.length, 4);
  for (const line of lines) {
    assert.ok(!line.includes(secret), `no data of the failed call in: ${line.slice(0, 300)}`);
    const { err } = JSON.parse(line) as { err: { type: string; message: string; stack: string } };
    assert.ok(err.type && err.message && err.stack, 'the error is still described');
  }
  assert.match(lines[0]!, /index_not_found/);
  assert.match(lines[1]!, /no_such_/);
});

test('finding 7: security headers, no-store, CSP that Swagger UI works under, 405 with Allow', async (t) => {
  const { url } = await startDeployment(t);
  const created = await call(url, 'POST', '/applications', { name: 'headers' });
  const token = created.body.token as string;
  for (const res of [created, await call(url, 'GET', `/applications/${token}`), await call(url, 'GET', '/applications/nope')]) {
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  }

  const docs = await fetch(`${url}/docs/`, { redirect: 'follow' });
  const html = await docs.text();
  assert.equal(docs.status, 200);
  const csp = docs.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  // Swagger UI works under the CSP: every script is an external file of /docs (no inline script), and they load
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.ok(scripts.length > 0);
  for (const [, attrs, inline] of scripts) {
    assert.match(attrs ?? '', /src="/, 'no inline script');
    assert.equal((inline ?? '').trim(), '', 'no inline script');
    const src = /src="([^"]+)"/.exec(attrs ?? '')![1]!;
    const asset = await fetch(new URL(src, `${url}/docs/`));
    assert.equal(asset.status, 200, src);
    await asset.arrayBuffer();
  }
  assert.equal((await call(url, 'GET', '/openapi.json')).status, 200);

  // a known path with a method it does not serve: 405 + Allow, in the catalogue shape
  for (const [method, path, allow] of [
    ['DELETE', `/applications/${token}`, ['GET', 'PATCH', 'PUT']],
    ['POST', `/applications/${token}/chats/1`, ['GET', 'PATCH', 'PUT']],
    ['DELETE', '/applications', ['GET', 'POST']],
    ['DELETE', `/applications/${token}/chats/1/messages/search`, ['GET']],
  ] as const) {
    const res = await call(url, method, path);
    expectError(res, 405, 'method_not_allowed', `${method} ${path}`);
    const got = (res.headers.get('allow') ?? '').split(',').map((m) => m.trim());
    for (const m of allow) assert.ok(got.includes(m), `${method} ${path}: Allow ${got.join(',')} has ${m}`);
    assert.ok(res.headers.get('x-request-id'));
  }
  expectError(await call(url, 'GET', '/nothing/here'), 404, 'not_found');
});

test('finding 7: CORS only for the origins of CORS_ORIGINS (none by default)', async (t) => {
  const closed = await startDeployment(t);
  const preflight = (url: string, origin: string) => fetch(`${url}/applications`, {
    method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  const denied = await preflight(closed.url, 'https://app.example.com');
  assert.ok(denied.status < 300, `preflight answered: ${denied.status}`);
  assert.equal(denied.headers.get('access-control-allow-origin'), null, 'no origin allowed by default');

  const open = await startDeployment(t, { env: { CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' } });
  const allowed = await preflight(open.url, 'https://app.example.com');
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);
  const other = await preflight(open.url, 'https://evil.example.net');
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  const simple = await fetch(`${open.url}/health/live`, { headers: { origin: 'https://admin.example.com' } });
  assert.equal(simple.headers.get('access-control-allow-origin'), 'https://admin.example.com');
  assert.match(simple.headers.get('access-control-expose-headers') ?? '', /X-Request-Id/i);
});

/** Error responses from raw sockets: catalogue shape, a request id, JSON. */
function expectRawError(res: Awaited<ReturnType<typeof rawHttp>>, status: number, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/, what);
  assert.equal(typeof res.json?.error, 'string', what);
  assert.equal(typeof res.json?.message, 'string', what);
  assert.ok(res.headers['x-request-id'], `${what}: X-Request-Id`);
}

test('finding 8: what the HTTP parser refuses gets the catalogue shape and a request id', async (t) => {
  const { url } = await startDeployment(t);
  expectRawError(await rawHttp(url, 'GET /applications/a b HTTP/1.1\r\nHost: x\r\n\r\n'), 400, 'raw space in the URL');
  expectRawError(await rawHttp(url, 'FOO@ / HTTP/1.1\r\nHost: x\r\n\r\n'), 400, 'unknown method');
  expectRawError(await rawHttp(url, 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n'), 400, 'control character in a header');
  expectRawError(await rawHttp(url, 'POST /applications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'), 400, 'duplicate Content-Length');
  expectRawError(await rawHttp(url, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 431, 'headers too large');
  const expect = await rawHttp(url, 'POST /applications HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nX-Request-Id: exp-1\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"name":"exp"}');
  expectRawError(expect, 417, 'Expect: foo');
  assert.equal(expect.headers['x-request-id'], 'exp-1');
  // a method Node knows that no route serves: 405 on a known path, 404 elsewhere, both in the catalogue shape
  const propfind = await rawHttp(url, 'PROPFIND /applications HTTP/1.1\r\nHost: x\r\n\r\n');
  expectRawError(propfind, 405, 'PROPFIND on a known path');
  assert.match(propfind.headers['allow'] ?? '', /GET/);
});

/** A PUT of `size` bytes through node:http, as a Node client sends it: the response it reads, or the error it gets. */
function bigPut(url: string, size: number): Promise<{ status: number; body: string; requestId?: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, method: 'PUT', path: '/applications/abc', headers: { 'content-type': 'application/json', 'content-length': size } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ...(res.headers['x-request-id'] ? { requestId: String(res.headers['x-request-id']) } : {}) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < size) {
        const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += part.length;
        if (!req.write(part)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/**
 * A client that sends its whole request, at its own pace, before it reads the response (as many simple clients
 * do): the status line it reads, or the error it gets.
 */
function sendAllThenRead(base: string, size: number): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    socket.on('connect', async () => {
      socket.write(`PUT /applications/abc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let sent = 0; sent < size && !socket.destroyed; sent += chunk.length) {
        await new Promise((r) => socket.write(chunk.subarray(0, Math.min(chunk.length, size - sent)), r));
        await new Promise((r) => setTimeout(r, 5));
      }
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
  });
}

test('finding 8: a 2 MiB PUT reaches a Node client as the 413 JSON, not a reset connection', { timeout: 120_000 }, async (t) => {
  const { url } = await startDeployment(t);
  for (let i = 0; i < 4; i++) {
    const res = await bigPut(url, 2 * 1024 * 1024);
    assert.equal(res.status, 413, `attempt ${i}`);
    assert.equal(JSON.parse(res.body).error, 'payload_too_large');
    assert.ok(res.requestId);
  }
  // the server lingers: it reads and discards the rest of the body, so the response survives until it is read
  for (let i = 0; i < 3; i++) {
    const raw = await sendAllThenRead(url, 2 * 1024 * 1024);
    assert.match(raw, /^HTTP\/1\.1 413 /, `attempt ${i}: ${raw.slice(0, 80)}`);
    assert.equal(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error, 'payload_too_large');
  }
});

test('finding 9: bad numbers and text over HTTP are 400/415, and nothing is stored altered', async (t) => {
  const { url } = await startDeployment(t);
  const token = (await call(url, 'POST', '/applications', { name: 'input' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`, {})).status, 201);

  for (const path of [`/applications/${token}/chats/9007199254740993`, `/applications/${token}/chats/1/messages/9007199254740993`, `/applications/${token}/chats/99999999999999999999`]) {
    const res = await call(url, 'GET', path);
    expectError(res, 400, 'validation_error', path);
    assert.ok(!/9007199254740992/.test(res.body.message), 'the number is never rounded');
  }

  const lone = await call(url, 'POST', `/applications/${token}/chats/1/messages`, '{"body":"a\\ud800b"}');
  expectError(lone, 400, 'validation_error', 'lone surrogate');
  expectError(await call(url, 'PUT', `/applications/${token}`, '{"name":"x\\udc00"}'), 400, 'validation_error', 'lone low surrogate');
  expectError(await call(url, 'GET', `/applications/${token}/chats/1/messages/search?query=%ED%A0%80`), 400, undefined, 'an encoded surrogate in the query');
  expectError(await call(url, 'GET', `/applications/${token}/chats/1/messages/search?query=caf%E9`), 400, undefined, 'latin1 percent-encoding in the query');
  const pair = await call(url, 'POST', `/applications/${token}/chats/1/messages`, '{"body":"a\\ud83d\\ude00b"}');
  assert.equal(pair.status, 201, 'a surrogate pair is a character');
  assert.equal(pair.body.body, 'a😀b');

  const latin1 = await fetch(`${url}/applications/${token}/chats/1/messages`, { method: 'POST', headers: { 'content-type': 'application/json; charset=latin1' }, body: Buffer.from('{"body":"caf\xe9"}', 'latin1') });
  expectError(await readResponse(latin1), 415, 'unsupported_media_type', 'charset=latin1');
  const invalidUtf8 = await fetch(`${url}/applications/${token}/chats/1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"body":"caf\xe9"}', 'latin1') });
  expectError(await readResponse(invalidUtf8), 400, undefined, 'bytes that are not UTF-8');
  const utf8 = await call(url, 'POST', `/applications/${token}/chats/1/messages`, '{"body":"café"}', { 'content-type': 'application/json; charset=UTF-8' });
  assert.equal(utf8.status, 201);
  const gzip = await call(url, 'POST', `/applications/${token}/chats/1/messages`, '{"body":"x"}', { 'content-encoding': 'gzip' });
  expectError(gzip, 415, 'unsupported_media_type', 'Content-Encoding: gzip');
  const identity = await call(url, 'POST', `/applications/${token}/chats/1/messages`, '{"body":"plain"}', { 'content-encoding': 'identity' });
  assert.equal(identity.status, 201);

  const list = await call(url, 'GET', `/applications/${token}/chats/1/messages`);
  assert.deepEqual(list.body.map((m: { body: string }) => m.body), ['a😀b', 'café', 'plain'], 'only the well-formed messages were stored, unaltered');
});

test('finding 9: bad numbers and text over NATS are 400, never 5xx', async (t) => {
  const { url, namespace } = await startDeployment(t);
  const token = (await call(url, 'POST', '/applications', { name: 'nats-input' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`, {})).status, 201);
  const nc = await connect({ servers: NATS_URL });
  t.after(() => nc.close());
  const ask = async (op: string, raw: string | Uint8Array) => {
    const msg = await nc.request(`${namespace}.api.v1.${op}`, typeof raw === 'string' ? new TextEncoder().encode(raw) : raw, { timeout: 15_000, headers: natsHeaders() });
    return { status: Number(msg.headers?.get('Nats-Service-Error-Code') ?? 200), body: JSON.parse(new TextDecoder().decode(msg.data)) };
  };
  const cases: Array<[string, string | Uint8Array]> = [
    ['messages.list', `{"token":"${token}","chat_number":1,"after":1e400}`],
    ['chats.list', `{"token":"${token}","after":1e400}`],
    ['messages.list', `{"token":"${token}","chat_number":1,"after":1e300}`],
    ['messages.search', `{"token":"${token}","chat_number":1,"query":"a","after":1e300}`],
    ['chats.get', `{"token":"${token}","chat_number":9007199254740993}`],
    ['messages.get', `{"token":"${token}","chat_number":1,"message_number":1e300}`],
    ['messages.create', `{"token":"${token}","chat_number":1,"body":"a\\ud800b"}`],
    ['chats.create', `{"token":"${token}","name":"\\udfff"}`],
    ['messages.create', Buffer.from(`{"token":"${token}","chat_number":1,"body":"caf\xe9"}`, 'latin1')],
  ];
  for (const [op, raw] of cases) {
    const reply = await ask(op, raw);
    assert.equal(reply.status, 400, `${op} ${String(raw).slice(0, 80)} → ${reply.status} ${JSON.stringify(reply.body)}`);
    assert.equal(typeof reply.body.error, 'string');
    assert.equal(typeof reply.body.message, 'string');
  }
  assert.deepEqual((await call(url, 'GET', `/applications/${token}/chats/1/messages`)).body, [], 'nothing was stored');
});
