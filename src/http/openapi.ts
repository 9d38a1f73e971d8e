import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';

/** The service's version (package.json, next to src/ and to dist/). */
export const serviceVersion: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const description = `Applications, numbered chats and messages. The reference, with everything this document says and more
(running, counters, limits, NATS request/reply): docs/API.md in the service's repository.

* **Numbering**: chats are numbered 1, 2, 3… per application and messages 1, 2, 3… per chat, unique and gapless
  under any concurrency; the number is in the 201 of the creating request, which is sent once the write is durable.
  A resource is readable with GET as soon as the request that wrote it returned; only counters
  (\`chats_count\`, \`messages_count\`) and search lag (eventually consistent, never counting a creation twice).
* **Search** (GET …/messages/search?query=TEXT): the chat's messages whose body contains \`query\` as a literal
  substring, ignoring case as JavaScript does (\`body.toLowerCase().includes(query.toLowerCase())\`); every character
  is literal (\`%\`, \`_\`, \`*\`, \`?\`, quotes…); 1–256 characters; ordered by number, paginated like lists (limit default
  50); a message is searchable shortly after its 201/200. Compatibility form: when the query string has no
  \`query\`, it is taken from a JSON body of the GET (\`{"query": "TEXT"}\` or \`{"query": {"body": "TEXT"}}\`).
* **Idempotency-Key** (request header, 1–128 characters) on creations and updates (POST, PUT, PATCH): a retry with
  the same key and the same request (method, route, path parameters, body) returns the outcome of the first attempt
  (same status, same resource) instead of writing again; the same key with a different request is refused with
  **422** \`idempotency_key_reused\`. A retry while the first attempt is still in flight waits for it and answers its
  outcome. Keys are scoped to the application of the path (POST /applications: one global scope — use random keys)
  and remembered for IDEMPOTENCY_TTL_SECONDS (24 hours by default). Successes and the errors the service decided
  (404) are replayed; validation errors (400) and 503s are not stored.
* **Authorization: Bearer <ADMIN_API_KEY>** (operators only) on GET /applications, the listing of every application:
  401 \`unauthorized\` without it, 403 \`forbidden\` when wrong or when the service has no ADMIN_API_KEY.
* **Retry-After** (response header) on every 503: \`unavailable\` (a dependency is down) or \`timeout\` (the write
  was not confirmed in time: retry with the same Idempotency-Key).
* **Link** (response header) on lists: \`<…?limit=N&after=CURSOR>; rel="next"\` while more items exist; the body is
  a plain JSON array.
* **X-Request-Id**: honoured when sent (\`[A-Za-z0-9._:-]{1,64}\`), minted otherwise, echoed on every response.
* Errors are \`{ "error": code, "message": text }\` with X-Request-Id, whatever refused the request (even the HTTP
  parser); codes: validation_error, malformed_json (400), unauthorized (401), forbidden (403), not_found (404),
  method_not_allowed (405, with \`Allow\`: a known path asked with another method), payload_too_large (413),
  unsupported_media_type (415: not JSON, a charset other than UTF-8, a Content-Encoding other than identity),
  expectation_failed (417), idempotency_key_reused (422), rate_limited (429), headers_too_large (431),
  unavailable, timeout (503), internal_error (500).
* **Rate limits** per client address and per application (\`RATE_LIMIT_*\`, shared by every api process):
  \`RateLimit-Limit\`, \`RateLimit-Remaining\`, \`RateLimit-Reset\` on API responses; 429 with Retry-After beyond.
  At most \`SEARCH_CONCURRENCY_PER_APPLICATION\` searches of one application run at once (429 beyond). List and
  search pages stop early at \`PAGE_MAX_BYTES\` (1 MiB) and link to the rest.
* Responses carry \`Cache-Control: no-store\`, \`X-Content-Type-Options: nosniff\` and a Content-Security-Policy;
  CORS only for the origins of \`CORS_ORIGINS\`.

The same operations are served over NATS request/reply (\`<NAMESPACE>.api.v1.*\`, see docs/API.md).`;

const requestIdParam = {
  type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$',
  description: 'Correlation id: echoed in the response and on every log line of the request; minted when absent or invalid.',
} as const;

const responseHeaders = {
  requestId: { type: 'string', description: 'The request\'s id (the X-Request-Id sent, or a minted one).' },
  retryAfter: { type: 'integer', description: 'Seconds to wait before retrying (with the same Idempotency-Key for writes).' },
  link: { type: 'string', description: 'Next page: `<path?limit=N&after=CURSOR>; rel="next"`; absent on the last page (a page may stop before `limit` items at PAGE_MAX_BYTES).' },
  rateLimit: { type: 'integer', description: 'RateLimit-Limit: requests allowed per window by the tighter of the client-address and application budgets.' },
  rateRemaining: { type: 'integer', description: 'RateLimit-Remaining: requests left in the current window.' },
  rateReset: { type: 'integer', description: 'RateLimit-Reset: seconds until the window resets.' },
} as const;

type ResponseSchemas = Record<string, Record<string, unknown>>;

/**
 * Example values by property name, for the spec (Swagger UI's "Try it out", the Postman collection): request
 * parts (path, query, headers, body) and resources. Fixed values also keep the generated collection stable.
 */
const TOKEN = 'u8GkqB3mXq5V0sYxJ2pL9w';
const requestExamples: Record<string, unknown> = {
  token: TOKEN, number: '1', mnumber: '1', name: 'Acme support', body: 'hello there', query: 'hello', limit: '100',
  'idempotency-key': '6f1c0e2a-3b7d-4f2e-9a51-0c8d2e4b7a19', 'x-request-id': 'req-42',
};
const resourceExamples: Record<string, unknown> = {
  token: TOKEN, number: 1, name: 'Acme support', body: 'hello there', chats_count: 3, messages_count: 12,
  created_at: '2025-01-15T09:30:00.000Z', updated_at: '2025-01-15T09:30:00.000Z',
};
const errorExamples: Record<string, { error: string; message: string }> = {
  400: { error: 'validation_error', message: 'body.name is required' },
  401: { error: 'unauthorized', message: 'this operation is for operators: send Authorization: Bearer <ADMIN_API_KEY>' },
  403: { error: 'forbidden', message: 'the operator credential is not valid' },
  404: { error: 'not_found', message: 'chat 7 of application "u8GkqB3mXq5V0sYxJ2pL9w" not found' },
  413: { error: 'payload_too_large', message: 'request body is larger than the limit' },
  415: { error: 'unsupported_media_type', message: 'request body must be JSON (Content-Type: application/json)' },
  422: { error: 'idempotency_key_reused', message: 'this Idempotency-Key was already used for a different request (method, path or body); use a new key for a new request' },
  429: { error: 'rate_limited', message: 'rate limit of this application exceeded (6000 requests per 60 s); retry after 12 s' },
  431: { error: 'headers_too_large', message: 'the request headers are too large' },
  500: { error: 'internal_error', message: 'internal error' },
  503: { error: 'unavailable', message: 'MySQL is unavailable; retry later' },
};
const readinessExample = { status: 'ready', checks: { started: true, mysql: true, nats: true } };

type Schema = Record<string, unknown> & { properties?: Record<string, Record<string, unknown>>; items?: unknown };

/** A copy of a schema whose properties (or array items' properties) carry an example when we have one for their name. */
function withExamples(schema: unknown, examples: Record<string, unknown>): unknown {
  const object = schema as Schema | undefined;
  if (object?.['type'] === 'array') return { ...object, items: withExamples(object.items, examples) };
  if (!object?.properties) return schema;
  const properties = Object.fromEntries(Object.entries(object.properties).map(([key, prop]) => [
    key, key in examples && prop['example'] === undefined ? { ...prop, example: examples[key] } : prop,
  ]));
  return { ...object, properties };
}

function responseExample(status: string, response: Schema): Schema {
  const required = response['required'];
  if (Array.isArray(required) && required.includes('error') && errorExamples[status]) return { ...response, example: errorExamples[status] };
  if (Array.isArray(required) && required.includes('checks')) return { ...response, example: status === '200' ? readinessExample : { ...readinessExample, status: 'unavailable', checks: { ...readinessExample.checks, mysql: false } } };
  return withExamples(response, resourceExamples) as Schema;
}

const successDescriptions: Record<string, string> = {
  200: 'OK',
  201: 'Created, its number assigned (a retry with the same Idempotency-Key answers the same)',
};

/** @fastify/swagger marks every request body required; a body without required properties may be left out (POST …/chats). */
function optionalBodies(spec: Record<string, unknown>): Record<string, unknown> {
  type Operation = { requestBody?: { required?: boolean; content?: Record<string, { schema?: { required?: unknown[] } }> } };
  for (const path of Object.values((spec['paths'] ?? {}) as Record<string, Record<string, Operation>>)) {
    for (const op of Object.values(path)) {
      const body = op.requestBody;
      if (body && !Object.values(body.content ?? {}).some((m) => (m.schema?.required?.length ?? 0) > 0)) body.required = false;
    }
  }
  return spec;
}

/**
 * Spec-only additions to a route's schema (validation is unchanged): the X-Request-Id request header, the
 * response headers each status carries, and example values.
 */
function documentHeaders(schema: FastifySchema | undefined): FastifySchema | undefined {
  if (!schema) return schema;
  const headers = (schema.headers ?? { type: 'object', properties: {} }) as { properties?: Record<string, unknown> };
  const responses: ResponseSchemas = {};
  for (const [status, response] of Object.entries((schema.response ?? {}) as ResponseSchemas)) {
    const extra: Record<string, unknown> = { 'X-Request-Id': responseHeaders.requestId };
    const description = response['description'] ?? successDescriptions[status];
    if (status === '503' || status === '429') extra['Retry-After'] = responseHeaders.retryAfter;
    if (status === '429' || status === '200' || status === '201') {
      Object.assign(extra, { 'RateLimit-Limit': responseHeaders.rateLimit, 'RateLimit-Remaining': responseHeaders.rateRemaining, 'RateLimit-Reset': responseHeaders.rateReset });
    }
    if (status === '200' && response['type'] === 'array') extra['Link'] = responseHeaders.link;
    responses[status] = { ...responseExample(status, response), ...(description ? { description } : {}), headers: { ...(response['headers'] as object | undefined), ...extra } };
  }
  return {
    ...schema,
    headers: withExamples({ ...headers, type: 'object', properties: { ...headers.properties, 'x-request-id': requestIdParam } }, requestExamples),
    ...(schema.params ? { params: withExamples(schema.params, requestExamples) } : {}),
    ...(schema.querystring ? { querystring: withExamples(schema.querystring, requestExamples) } : {}),
    ...(schema.body ? { body: withExamples(schema.body, requestExamples) } : {}),
    ...(schema.response ? { response: responses } : {}),
  };
}

export interface OpenApiOptions {
  /** Servers listed in the spec (and used by Swagger UI / the Postman collection). */
  servers?: Array<{ url: string; description: string }>;
}

/**
 * OpenAPI 3.1 generated from the route schemas (tags, summaries, bodies, params, responses incl. errors), served
 * at `/openapi.json`, with Swagger UI at `/docs`. Register before the routes: @fastify/swagger collects them
 * with an onRoute hook.
 */
export async function registerOpenApi(app: FastifyInstance, opts: OpenApiOptions = {}): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Chat service', version: serviceVersion, description },
      servers: opts.servers ?? [{ url: 'http://localhost:3000', description: 'Local (npm start, docker compose)' }],
      components: {
        securitySchemes: {
          adminApiKey: { type: 'http', scheme: 'bearer', description: 'The operator credential: the value of ADMIN_API_KEY (listing every application).' },
        },
      },
      tags: [
        { name: 'applications', description: 'Applications (the service mints their token)' },
        { name: 'chats', description: 'Chats of an application, numbered 1, 2, 3… per application' },
        { name: 'messages', description: 'Messages of a chat, numbered 1, 2, 3… per chat; substring search' },
        { name: 'health', description: 'Liveness and readiness probes' },
      ],
    },
    transform: ({ schema, url }) => ({ schema: documentHeaders(schema) as NonNullable<typeof schema>, url }),
    transformObject: (documentObject) => optionalBodies(('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject) as Record<string, unknown>) as never,
  });
  app.get('/openapi.json', { schema: { hide: true }, logLevel: 'warn' }, async () => app.swagger());
  await app.register(swaggerUi, { routePrefix: '/docs', logLevel: 'warn', uiConfig: { deepLinking: true, docExpansion: 'list' } });
}
