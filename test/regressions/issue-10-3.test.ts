/**
 * Issue 10, point 3: seed clients keep working. The original system's Postman collection sends its search as a GET
 * with the query in a JSON body (`{"query": {"body": "message"}}`: Rails merges body and query-string parameters).
 * The service takes the query from a JSON body when the query string has none; the query string stays the way.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { expectError } from '../support/expect.js';
import { call, startDeployment, waitFor } from '../support/harness.js';
import { httpOnly } from '../support/inject.js';
import { rawHttp } from '../support/raw-http.js';

const TOKEN = 'u8GkqB3mXq5V0sYxJ2pL9w';
const SEARCH = `/applications/${TOKEN}/chats/1/messages/search`;

/** The HTTP app alone (no process behind it): a service whose search records the query it was given. */
async function app(t: TestContext, bodyLimit = 1_048_576): Promise<{ server: FastifyInstance; queries: string[] }> {
  const queries: string[] = [];
  const at = '2025-01-15T09:30:00.000Z';
  const { app: server } = await httpOnly(t, {
    bodyLimit,
    service: {
      searchMessages: async (_token, _chat, query, after, limit) => {
        queries.push(query);
        return { items: [{ number: after + 1, body: query, created_at: at, updated_at: at }], ...(limit === 1 ? { next: String(after + 1) } : {}) };
      },
      getApplication: async (token) => ({ token, name: 'n', chats_count: 0, created_at: at, updated_at: at }),
    },
  });
  return { server, queries };
}

const json = { 'content-type': 'application/json' };

test('issue 10.3: search takes its query from a JSON body of the GET when the query string has none', async (t) => {
  const { server, queries } = await app(t);
  const get = (url: string, payload?: string, headers: Record<string, string> = json) => server.inject({ method: 'GET', url, headers, ...(payload === undefined ? {} : { payload }) });

  // the Postman collection's request, and the plain string form
  for (const [payload, expected] of [['{"query": {"body": "message"}}', 'message'], ['{"query":"hello there"}', 'hello there']] as const) {
    const res = await get(SEARCH, payload);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json()[0].body, expected);
  }
  // no content type at all is read as JSON too; a +json media type is JSON
  assert.equal((await get(SEARCH, '{"query":"bare"}', {})).statusCode, 200);
  assert.equal((await get(SEARCH, '{"query":"vnd"}', { 'content-type': 'application/vnd.api+json; charset=utf-8' })).statusCode, 200);
  assert.deepEqual(queries.splice(0), ['message', 'hello there', 'bare', 'vnd']);

  // the query string wins; its limit and after still apply, and the next page's Link carries the body's query
  assert.equal((await get(`${SEARCH}?query=qs`, '{"query":"body"}')).json()[0].body, 'qs');
  const paged = await get(`${SEARCH}?limit=1&after=4`, '{"query":{"body":"a b&c"}}');
  assert.equal(paged.json()[0].number, 5);
  assert.equal(paged.headers['link'], `<${SEARCH}?query=a+b%26c&limit=1&after=5>; rel="next"`);
  assert.deepEqual(queries.splice(0), ['qs', 'a b&c']);

  // the same rules as the query string: required, 1–256 characters, a string
  for (const payload of ['{}', '{"query":""}', '{"query":{"body":""}}', '{"query":{"body":5}}', '{"query":["x"]}', '{"query":{"text":"x"}}', '[]', '"message"', `{"query":"${'q'.repeat(257)}"}`, '   ']) {
    const res = await get(SEARCH, payload);
    expectError({ status: res.statusCode, headers: new Headers(res.headers as Record<string, string>), body: res.json() }, 400, 'validation_error', payload.slice(0, 40));
  }
  // a body of another content type is ignored, as on every GET: the query is missing (as before)
  assert.equal((await get(SEARCH, '{"query":"x"}', { 'content-type': 'text/plain' })).json().error, 'validation_error');
  // broken JSON, bytes that are not UTF-8, a lone surrogate, another charset
  assert.equal((await get(SEARCH, '{"query":')).json().error, 'malformed_json');
  assert.equal((await server.inject({ method: 'GET', url: SEARCH, headers: json, payload: Buffer.from([0x7b, 0xff, 0x7d]) })).statusCode, 400);
  assert.equal((await get(SEARCH, '{"query":"a\\ud800b"}')).json().error, 'validation_error');
  const latin1 = await get(SEARCH, '{"query":"x"}', { 'content-type': 'application/json; charset=latin1' });
  assert.equal(latin1.statusCode, 415);
  assert.equal(latin1.json().error, 'unsupported_media_type');
  assert.deepEqual(queries, [], 'the service was never asked');
});

test('issue 10.3: a search body over the body limit is a 413; other GET routes still ignore bodies', async (t) => {
  const { server } = await app(t, 64);
  const big = await server.inject({ method: 'GET', url: SEARCH, headers: json, payload: JSON.stringify({ query: 'x'.repeat(100) }) });
  assert.equal(big.statusCode, 413);
  assert.equal(big.json().error, 'payload_too_large');
  const other = await server.inject({ method: 'GET', url: `/applications/${TOKEN}`, headers: json, payload: '{"not json' });
  assert.equal(other.statusCode, 200, 'a GET body is not parsed elsewhere');
  // POST keeps its strict rules: not JSON is a 415
  const post = await server.inject({ method: 'POST', url: '/applications', headers: { 'content-type': 'text/plain' }, payload: 'name=x' });
  assert.equal(post.statusCode, 415);
});

test('issue 10.3: the Postman collection\'s search request against the running service', async (t) => {
  const { url } = await startDeployment(t);
  const token = (await call(url, 'POST', '/applications', { name: 'postman' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`)).status, 201);
  for (const body of ['first message', 'no match here', 'A MESSAGE in capitals']) assert.equal((await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body })).status, 201);
  const path = `/applications/${token}/chats/1/messages/search`;
  await waitFor('indexed', async () => (await call(url, 'GET', `${path}?query=capitals`)).body?.length === 1);

  // exactly what Postman sends: a GET with a JSON body (fetch refuses to, so over a raw socket)
  const payload = JSON.stringify({ query: { body: 'message' } });
  const { host } = new URL(url);
  const res = await rawHttp(url, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.map((m: { number: number }) => m.number), [1, 3]);
  // the same answer as the query-string form
  assert.deepEqual(res.json, (await call(url, 'GET', `${path}?query=message`)).body);
});
