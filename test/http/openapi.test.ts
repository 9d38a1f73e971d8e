import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { UnavailableError } from '../../src/domain/errors.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/log.js';

/** The app exactly as the api role builds it, with no dependency behind it (the spec needs none). */
async function app(t: { after(fn: () => Promise<unknown>): void }): Promise<FastifyInstance> {
  const built = await buildApp({
    service: () => {
      throw UnavailableError.dependency('nothing (test)');
    },
    log: createLogger('silent'),
    ready: async () => ({ started: false }),
    bodyLimit: 1_048_576,
  });
  t.after(() => built.close());
  return built;
}

/**
 * Every route Fastify has, from `printRoutes({ commonPrefix: false })`: a tree whose lines read
 * `│   ├── segment (GET, HEAD)`, four characters per level; a route's path is its ancestors' segments joined.
 */
function routesOf(server: FastifyInstance): Array<{ method: string; url: string }> {
  const out: Array<{ method: string; url: string }> = [];
  const stack: string[] = [];
  for (const line of server.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean)) out.push({ method, url: stack.join('') });
  }
  return out;
}

/** Fastify `/a/:b` → OpenAPI `/a/{b}`. */
const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Not the API: Swagger UI and the spec themselves, Prometheus, the probes, the web console. HEAD is Fastify's automatic twin of GET. */
const undocumented = (method: string, url: string): boolean =>
  method === 'HEAD' || method === 'OPTIONS' || url === '/docs' || url.startsWith('/docs/') || url === '/openapi.json' || url === '/metrics' || url.startsWith('/health/') || url === '/console' || url.startsWith('/console/');

test('openapi: /openapi.json documents every route with its errors and headers', async (t) => {
  const server = await app(t);
  const res = await server.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const spec = res.json();

  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.match(spec.openapi, /^3\.1\./);
  assert.equal(spec.info.title, 'Chat service');
  assert.equal(spec.info.version, pkg.version);
  assert.ok(spec.servers.length > 0);
  for (const header of ['Idempotency-Key', 'Retry-After', 'Link']) assert.ok(spec.info.description.includes(header), `description mentions ${header}`);

  const routes = routesOf(server);
  const api = routes.filter((r) => !undocumented(r.method, r.url));
  // the routes of docs/API.md, each method once (PUT and PATCH both), and the live stream; the parser above found them
  assert.equal(api.length, 17, JSON.stringify(api));
  assert.ok(routes.some((r) => r.url === '/docs'), 'Swagger UI is served');

  for (const { method, url } of api) {
    const where = `${method} ${url}`;
    const op = spec.paths[openApiPath(url)]?.[method.toLowerCase()];
    assert.ok(op, `${where} is in the spec`);
    assert.ok(op.summary && op.tags?.length, `${where} has a summary and a tag`);
    const write = method !== 'GET';
    const operatorOnly = method === 'GET' && url === '/applications';
    const errors = write ? ['400', '404', '413', '415', '422', '429', '431', '500', '503'] : operatorOnly ? ['400', '401', '403', '429', '431', '500', '503'] : ['400', '404', '429', '431', '500', '503'];
    assert.equal(JSON.stringify(op.security ?? null), operatorOnly ? '[{"adminApiKey":[]}]' : 'null', `${where}: ${operatorOnly ? 'the operator credential' : 'no credential'}`);
    for (const status of errors) {
      const response = op.responses[status];
      assert.ok(response, `${where} documents ${status}`);
      assert.ok(response.description.length > 10, `${where} ${status} is described`);
      assert.deepEqual(response.content['application/json'].schema.required, ['error', 'message'], `${where} ${status} is { error, message }`);
    }
    assert.ok(op.responses['503'].headers['Retry-After'], `${where} 503 documents Retry-After`);
    assert.ok(op.responses['429'].headers['Retry-After'] && op.responses['429'].headers['RateLimit-Remaining'], `${where} 429 documents Retry-After and RateLimit-*`);
    const success = op.responses[method === 'POST' ? '201' : '200'];
    const mediaType = url.endsWith('/stream') ? 'text/event-stream' : 'application/json';
    assert.ok(success?.content?.[mediaType]?.schema, `${where} documents its success body (${mediaType})`);
    for (const response of Object.values(op.responses) as Array<{ headers: Record<string, unknown> }>) assert.ok(response.headers['X-Request-Id'], `${where}: X-Request-Id on every response`);
    if (success.content[mediaType].schema.type === 'array') assert.ok(success.headers['Link'], `${where} documents Link`);

    const headers = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'header').map((p: { name: string }) => p.name.toLowerCase());
    assert.ok(headers.includes('x-request-id'), `${where} documents X-Request-Id`);
    assert.equal(headers.includes('idempotency-key'), write, `${where} ${write ? 'documents' : 'has no'} Idempotency-Key`);
    for (const name of url.match(/:([A-Za-z]+)/g) ?? []) {
      assert.ok(op.parameters.some((p: { in: string; name: string }) => p.in === 'path' && p.name === name.slice(1)), `${where} documents ${name}`);
    }
  }

  assert.deepEqual(spec.components.securitySchemes.adminApiKey, { type: 'http', scheme: 'bearer', description: spec.components.securitySchemes.adminApiKey.description });
  assert.match(spec.components.securitySchemes.adminApiKey.description, /ADMIN_API_KEY/);
  // only the chat creation may be sent without a body
  assert.equal(spec.paths['/applications/{token}/chats'].post.requestBody.required, false);
  assert.equal(spec.paths['/applications/{token}/chats/{number}/messages'].post.requestBody.required, true);
  // nothing in the spec that the server does not serve
  const served = new Set(routes.map((r) => `${r.method} ${openApiPath(r.url)}`));
  for (const [path, ops] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) assert.ok(served.has(`${method.toUpperCase()} ${path}`), `the spec's ${method} ${path} is served`);
  }
});

test('openapi: Swagger UI at /docs', async (t) => {
  const server = await app(t);
  const ui = await server.inject({ method: 'GET', url: '/docs' });
  assert.equal(ui.statusCode, 200);
  assert.match(String(ui.headers['content-type']), /^text\/html/);
  assert.match(ui.body, /swagger/i);
  const initializer = await server.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
  assert.equal(initializer.statusCode, 200);
  const json = await server.inject({ method: 'GET', url: '/docs/json' });
  assert.equal(json.statusCode, 200);
  assert.equal(json.json().info.title, 'Chat service');
});

test('openapi: docs/API.md lists every route the spec has and the error catalogue of src/domain/errors.ts', async (t) => {
  const server = await app(t);
  const spec = (await server.inject({ method: 'GET', url: '/openapi.json' })).json() as { info: { description: string }; paths: Record<string, Record<string, unknown>> };
  const doc = await readFile(new URL('../../docs/API.md', import.meta.url), 'utf8');

  // the endpoint table: | METHOD[, METHOD] | `/path/:param` | … |
  const documented = new Set<string>();
  for (const match of doc.matchAll(/^\| ((?:GET|POST|PUT|PATCH|DELETE)(?:, (?:GET|POST|PUT|PATCH|DELETE))*) \| `(\/applications[^`]*)` \|/gm)) {
    for (const method of match[1]!.split(', ')) documented.add(`${method} ${openApiPath(match[2]!)}`);
  }
  const inSpec = new Set<string>();
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const method of Object.keys(ops)) if (path.startsWith('/applications')) inSpec.add(`${method.toUpperCase()} ${path}`);
  }
  assert.deepEqual([...documented].sort(), [...inSpec].sort(), 'docs/API.md "HTTP endpoints" = the routes of the OpenAPI document');

  // the error catalogue: | status | `code` | … |, the same codes and statuses as the ErrorCode union
  const source = await readFile(new URL('../../src/domain/errors.ts', import.meta.url), 'utf8');
  const union = /export type ErrorCode =([^;]+);/.exec(source)?.[1] ?? '';
  const codes = [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!).sort();
  assert.ok(codes.length >= 10, 'found the ErrorCode union');
  const catalogue = [...doc.matchAll(/^\| (\d{3}) \| `([a-z_]+)` \|/gm)].map((m) => m[2]!).sort();
  assert.deepEqual(catalogue, codes, 'docs/API.md "Errors" lists every error code once');
  for (const code of codes) assert.ok(spec.info.description.includes(code), `the OpenAPI description names ${code}`);
  assert.doesNotMatch(doc, /\.\.\/shared/, 'docs/API.md is self-contained');
});
