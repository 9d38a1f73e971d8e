import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { connect, headers as natsHeaders } from 'nats';
import { loadConfig } from '../../src/config.js';
import { LAYOUT } from '../../src/search/index-definition.js';
import { expectError, nextLink } from '../support/expect.js';
import { NATS_URL } from '../support/env.js';
import { call, startDeployment, waitFor } from '../support/harness.js';
import { freePort } from '../support/ports.js';

/** Issue 8, finding 6: rate limits per token and per address (shared through Redis), bounded searches, bounded pages. */


const limited = (extra: Record<string, string> = {}) => ({ RATE_LIMIT: 'on', RATE_LIMIT_WINDOW_MS: '60000', ...extra });

test('rate limits are on by default, generous, and can be switched off', () => {
  const config = loadConfig({});
  assert.equal(config.rateLimit, 'on');
  assert.ok(config.rateLimitPerAddress >= 1000 && config.rateLimitPerApplication >= 1000);
  assert.throws(() => loadConfig({ RATE_LIMIT: 'maybe' }));
});

test('finding 6: per application and per address budgets, 429 + Retry-After + RateLimit-*, shared by api processes', { timeout: 120_000 }, async (t) => {
  const env = limited({ RATE_LIMIT_PER_ADDRESS: '30', RATE_LIMIT_PER_APPLICATION: '8' });
  const first = await startDeployment(t, { env });
  const url = first.url;
  const created = await call(url, 'POST', '/applications', { name: 'limited' });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('ratelimit-limit'), '30', 'an unscoped route counts against the address');
  const token = created.body.token as string;

  let last = Number.POSITIVE_INFINITY;
  for (let i = 1; i <= 8; i++) {
    const res = await call(url, 'GET', `/applications/${token}`);
    assert.equal(res.status, 200, `request ${i}`);
    assert.equal(res.headers.get('ratelimit-limit'), '8');
    const remaining = Number(res.headers.get('ratelimit-remaining'));
    assert.ok(remaining < last, 'RateLimit-Remaining goes down');
    last = remaining;
    assert.ok(Number(res.headers.get('ratelimit-reset')) >= 1);
  }
  const over = await call(url, 'GET', `/applications/${token}/chats`);
  expectError(over, 429, 'rate_limited', 'past the application budget');
  assert.match(over.body.message, /application/);
  assert.ok(Number(over.headers.get('retry-after')) >= 1, 'Retry-After');
  assert.equal(over.headers.get('ratelimit-remaining'), '0');
  assert.ok(over.headers.get('x-request-id'));

  // another application from the same address is not affected by that budget
  const other = (await call(url, 'POST', '/applications', { name: 'other' })).body.token as string;
  assert.equal((await call(url, 'GET', `/applications/${other}`)).status, 200);
  // health and docs are not limited
  for (let i = 0; i < 5; i++) assert.equal((await call(url, 'GET', '/health/live')).status, 200);

  // a second api process of the same deployment shares the counts (Redis)
  const second = await startDeployment(t, { namespace: first.namespace, env: { ...env, ROLES: 'api' }, keep: true });
  // (its first requests may come before its Redis connection is up — e.g. Redis in another container — and fail open)
  await waitFor('the other api process counts in Redis', async () => (await call(second.url, 'GET', `/applications/${token}`)).status === 429 || undefined, 10_000);
  expectError(await call(second.url, 'GET', `/applications/${token}`), 429, 'rate_limited', 'the other api process');

  // the address budget: many creations from one client are cut off
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) statuses.push((await call(second.url, 'POST', '/applications', { name: `burst ${i}` })).status);
  assert.ok(statuses.includes(429), 'a burst of creations from one address hits the limit');
  assert.ok(statuses.indexOf(429) < statuses.length - 1 && statuses.slice(statuses.indexOf(429)).every((s) => s === 429), 'and stays limited for the window');
});

test('finding 6: with Redis down the limits fail open (the service keeps working)', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = once(redis, 'exit');
  t.after(async () => {
    if (redis.exitCode === null && redis.signalCode === null) {
      redis.kill('SIGKILL');
      await exited;
    }
  });
  await waitFor('redis up', async () => {
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  });
  const { url } = await startDeployment(t, { env: limited({ REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_PER_ADDRESS: '4' }) });
  await waitFor('limiter counting in Redis', async () => (await call(url, 'GET', '/applications/nope')).headers.get('ratelimit-limit') === '4');
  let limitedStatus = 0;
  for (let i = 0; i < 6 && limitedStatus !== 429; i++) limitedStatus = (await call(url, 'GET', '/applications/nope')).status;
  assert.equal(limitedStatus, 429, 'the limit holds while Redis is up');

  redis.kill('SIGKILL');
  await exited;
  const created = await call(url, 'POST', '/applications', { name: 'redis down' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  for (let i = 0; i < 10; i++) assert.equal((await call(url, 'GET', `/applications/${created.body.token}`)).status, 200, `request ${i} with Redis down`);
});

test('finding 6: the off switch', async (t) => {
  const { url } = await startDeployment(t, { env: { RATE_LIMIT: 'off', RATE_LIMIT_PER_ADDRESS: '2' } });
  for (let i = 0; i < 10; i++) {
    const res = await call(url, 'GET', '/applications/nope');
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('ratelimit-limit'), null);
  }
});

test('finding 6: one application\'s searches are bounded, so they cannot starve another\'s', { timeout: 120_000 }, async (t) => {
  // a search engine whose index has this code's layout and whose searches never answer: they stay in flight
  // until SEARCH_TIMEOUT_MS
  const hanging: ServerResponse[] = [];
  let searches = 0;
  const engine = createServer((req, res) => {
    const path = req.url ?? '';
    if (path.includes('_search')) {
      searches++;
      hanging.push(res);
      return;
    }
    res.setHeader('content-type', 'application/json');
    if (req.method === 'HEAD' && path.startsWith('/_alias/')) res.end();
    else if (path.endsWith('/_mapping')) res.end(JSON.stringify({ index: { mappings: { _meta: { layout: LAYOUT } } } }));
    else res.writeHead(404).end('{}');
  });
  engine.listen(0, '127.0.0.1');
  await once(engine, 'listening');
  t.after(() => {
    for (const res of hanging) res.destroy();
    engine.closeAllConnections();
    engine.close();
  });
  const enginePort = (engine.address() as { port: number }).port;
  const { url, namespace } = await startDeployment(t, {
    env: { ROLES: 'api,actors', ELASTICSEARCH_URL: `http://127.0.0.1:${enginePort}`, SEARCH_ENGINE: 'opensearch', SEARCH_TIMEOUT_MS: '4000', SEARCH_CONCURRENCY_PER_APPLICATION: '2' },
  });
  const heavy = (await call(url, 'POST', '/applications', { name: 'heavy' })).body.token as string;
  const light = (await call(url, 'POST', '/applications', { name: 'light' })).body.token as string;
  for (const token of [heavy, light]) assert.equal((await call(url, 'POST', `/applications/${token}/chats`, {})).status, 201);

  const search = (token: string) => call(url, 'GET', `/applications/${token}/chats/1/messages/search?query=${'x'.repeat(256)}`);
  const inFlight = [search(heavy), search(heavy)];
  await waitFor('two searches at the engine', async () => searches >= 2);
  const refused = await search(heavy);
  expectError(refused, 429, 'rate_limited', 'a third concurrent search of the same application');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);

  const nc = await connect({ servers: NATS_URL });
  t.after(() => nc.close());
  const reply = await nc.request(`${namespace}.api.v1.messages.search`, new TextEncoder().encode(JSON.stringify({ token: heavy, chat_number: 1, query: 'x' })), { timeout: 10_000, headers: natsHeaders() });
  assert.equal(reply.headers?.get('Nats-Service-Error-Code'), '429', 'the bound holds over NATS too');

  // the other application still gets its search to the engine (it is not refused for the first one's load)
  const lightSearch = search(light);
  await waitFor('the other application\'s search at the engine', async () => searches >= 3);
  const lightResult = await lightSearch;
  assert.notEqual(lightResult.status, 429);
  for (const res of await Promise.all(inFlight)) expectError(res, 503, 'unavailable', 'engine timeout');
  // the slots are given back
  const again = search(heavy);
  await waitFor('a new search admitted', async () => searches >= 4);
  assert.notEqual((await again).status, 429);
});

test('finding 6: list and search pages are bounded in bytes and link to the rest', { timeout: 120_000 }, async (t) => {
  const { url, namespace } = await startDeployment(t, { env: { PAGE_MAX_BYTES: '4096' } });
  const token = (await call(url, 'POST', '/applications', { name: 'big pages' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`, {})).status, 201);
  for (let i = 1; i <= 7; i++) assert.equal((await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: `${i} ${'é'.repeat(700)}` })).status, 201);

  const numbers: number[] = [];
  let path: string | undefined = `/applications/${token}/chats/1/messages?limit=1000`;
  while (path) {
    const res = await fetch(url + path);
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.ok(Buffer.byteLength(text) <= 4096, `page of ${Buffer.byteLength(text)} bytes`);
    const page = JSON.parse(text) as Array<{ number: number }>;
    assert.ok(page.length >= 1);
    numbers.push(...page.map((m) => m.number));
    path = nextLink({ status: res.status, headers: res.headers, body: page });
  }
  assert.deepEqual(numbers, [1, 2, 3, 4, 5, 6, 7], 'every message once, in order, across the cut pages');

  const nc = await connect({ servers: NATS_URL });
  t.after(() => nc.close());
  const reply = await nc.request(`${namespace}.api.v1.messages.list`, new TextEncoder().encode(JSON.stringify({ token, chat_number: 1, limit: 1000 })), { timeout: 10_000 });
  assert.ok(reply.data.length <= 4096);
  const next = reply.headers?.get('Chat-Next-After');
  const items = JSON.parse(new TextDecoder().decode(reply.data)) as Array<{ number: number }>;
  assert.ok(items.length < 7 && next === String(items[items.length - 1]!.number), 'the NATS page is cut too, with its next cursor');
});
