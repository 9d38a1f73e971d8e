/**
 * The TypeScript client against the running service (the repository's test harness boots it in this process):
 * creations retried with one Idempotency-Key through 503s and attempts that time out create exactly once;
 * lists, search and the operator listing iterate over the `Link` pages; errors arrive as ChatApiError.
 * Run from the repository root: `npm run test:client`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TEST_ADMIN_KEY, uniqueName } from '../../../test/support/env.js';
import { startDeployment, waitFor, type Deployment } from '../../../test/support/harness.js';
import { ChatApiError, ChatClient, nextLink, type Message, type RetryInfo } from '../src/index.js';

interface Sent { method: string; path: string; key: string | null; status: number | 'no answer' }

/** A fetch that records every request the client makes (and what became of it). */
function recordingFetch(sent: Sent[]): (request: Request) => Promise<Response> {
  return async (request) => {
    const entry: Sent = { method: request.method, path: new URL(request.url).pathname + new URL(request.url).search, key: request.headers.get('idempotency-key'), status: 'no answer' };
    sent.push(entry);
    const response = await fetch(request);
    entry.status = response.status;
    return response;
  };
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

test('client: a creation retried through 503s and timed-out attempts keeps its Idempotency-Key and creates once', { timeout: 180_000 }, async (t) => {
  const namespace = uniqueName();
  const api = await startDeployment(t, { namespace, keep: true, overrides: { roles: ['api'], commandTimeoutMs: 1000 } });
  let actors: Deployment | undefined = await startDeployment(t, { namespace, keep: true, overrides: { roles: ['actors', 'projections'] } });
  let restart: Promise<Deployment> | undefined;
  const sent: Sent[] = [];
  const retries: RetryInfo[] = [];
  const client = new ChatClient({
    baseUrl: api.url, fetch: recordingFetch(sent), maxAttempts: 60, retryDelayMs: 100, maxRetryDelayMs: 300,
    onRetry: (retry) => {
      retries.push(retry);
      // the actors come back after the second failed attempt (the last start tears the deployment down)
      if (retries.length === 2 && !restart) restart = startDeployment(t, { namespace, overrides: { roles: ['actors', 'projections'] } });
    },
  });
  const token = (await client.createApplication('client')).token;
  assert.equal((await client.createChat(token, 'general')).number, 1);
  assert.equal(retries.length, 0, 'no retry while the actors run');

  // no actors: each attempt waits COMMAND_TIMEOUT_MS and answers 503 `timeout` with Retry-After
  await actors.runtime.stop();
  actors = undefined;
  sent.length = 0;
  const created = await client.createMessage(token, 1, 'through 503s');
  assert.equal(created.number, 1);
  assert.equal(created.body, 'through 503s');
  assert.ok(retries.length >= 2 && retries.every((r) => r.status === 503), JSON.stringify(retries));
  const keys = new Set(sent.map((s) => s.key));
  assert.equal(keys.size, 1, 'every attempt carried the same key');
  assert.equal([...keys][0], retries[0]!.idempotencyKey);
  assert.deepEqual(sent.map((s) => s.status).slice(-1), [201]);
  assert.ok(sent.filter((s) => s.status === 503).length >= 2);

  // no actors again, and attempts abandoned after 300 ms (the service is still waiting for them)
  await (await restart!).runtime.stop();
  restart = undefined;
  retries.length = 0;
  sent.length = 0;
  const impatient = new ChatClient({
    baseUrl: api.url, fetch: recordingFetch(sent), timeoutMs: 300, maxAttempts: 60, retryDelayMs: 100, maxRetryDelayMs: 300,
    onRetry: (retry) => {
      retries.push(retry);
      if (retries.length === 3 && !restart) restart = startDeployment(t, { namespace, overrides: { roles: ['actors', 'projections'] } });
    },
  });
  const second = await impatient.createMessage(token, 1, 'through timeouts');
  assert.equal(second.number, 2);
  assert.ok(retries.slice(0, 3).every((r) => r.status === undefined && r.error !== undefined), 'the first attempts got no answer in time');
  assert.equal(new Set(sent.map((s) => s.key)).size, 1, 'one key for every attempt');

  // exactly one message per creation, whatever the number of attempts
  await restart;
  const messages = await all(client.messages(token, 1));
  assert.deepEqual(messages.map((m) => [m.number, m.body]), [[1, 'through 503s'], [2, 'through timeouts']]);
});

test('client: lists, search and the operator listing are async iterators over the Link pages', { timeout: 120_000 }, async (t) => {
  const { url } = await startDeployment(t);
  const sent: Sent[] = [];
  const client = new ChatClient({ baseUrl: url, adminApiKey: TEST_ADMIN_KEY, fetch: recordingFetch(sent) });
  const tokens = [];
  for (const name of ['one', 'two', 'three']) tokens.push((await client.createApplication(name)).token);
  const token = tokens[0]!;
  for (let i = 1; i <= 3; i++) assert.equal((await client.createChat(token)).number, i);
  for (let i = 1; i <= 25; i++) assert.equal((await client.createMessage(token, 1, `m${i}`)).number, i);

  sent.length = 0;
  const messages: Message[] = await all(client.messages(token, 1, { limit: 10 }));
  assert.deepEqual(messages.map((m) => m.number), Array.from({ length: 25 }, (_, i) => i + 1));
  assert.deepEqual(sent.map((s) => s.path), [
    `/applications/${token}/chats/1/messages?limit=10`,
    `/applications/${token}/chats/1/messages?limit=10&after=10`,
    `/applications/${token}/chats/1/messages?limit=10&after=20`,
  ], 'one request per page, each the Link of the previous one');
  assert.deepEqual((await all(client.chats(token, { limit: 2 }))).map((c) => c.number), [1, 2, 3]);

  // search: m1, m10–m19 (literal substring), four per page
  await waitFor('indexed', async () => (await all(client.search(token, 1, 'M1', { limit: 1000 }))).length === 11);
  sent.length = 0;
  const found = await all(client.search(token, 1, 'M1', { limit: 4 }));
  assert.deepEqual(found.map((m) => m.body), ['m1', ...Array.from({ length: 10 }, (_, i) => `m1${i}`)]);
  assert.equal(sent.length, 3);

  // the operator listing, with the sealed cursors of its Link
  const listed = await all(client.applications({ limit: 2 }));
  assert.deepEqual(listed.map((a) => a.token).sort(), [...tokens].sort());
  await assert.rejects(all(new ChatClient({ baseUrl: url }).applications()), (err: unknown) => err instanceof ChatApiError && err.status === 401 && err.code === 'unauthorized');

  // errors that retrying would not change are thrown at once, with the service's code and request id
  sent.length = 0;
  await assert.rejects(client.getChat(token, 99), (err: unknown) => err instanceof ChatApiError && err.status === 404 && err.code === 'not_found' && typeof err.requestId === 'string');
  assert.equal(sent.length, 1, 'a 404 is not retried');
  const key = crypto.randomUUID();
  assert.equal((await client.createMessage(token, 2, 'first', { idempotencyKey: key })).number, 1);
  assert.equal((await client.createMessage(token, 2, 'first', { idempotencyKey: key })).number, 1, 'your own key: the same request answers the same');
  await assert.rejects(client.createMessage(token, 2, 'another body', { idempotencyKey: key }), (err: unknown) => err instanceof ChatApiError && err.status === 422 && err.code === 'idempotency_key_reused');
  const renamed = await client.renameChat(token, 2, null);
  assert.equal(renamed.name, null);
  assert.equal((await client.editMessage(token, 2, 1, 'edited')).body, 'edited');
  assert.equal((await client.getMessage(token, 2, 1)).body, 'edited');
});

test('client: nextLink reads rel="next" from a Link header', () => {
  assert.equal(nextLink('</a?limit=2&after=2>; rel="next"'), '/a?limit=2&after=2');
  assert.equal(nextLink('</p>; rel="prev", </n?after=x>; rel="next"'), '/n?after=x');
  assert.equal(nextLink('</a>; rel="prev"'), undefined);
  assert.equal(nextLink(null), undefined);
});

test('client: watch() iterates a chat\'s live events in number order and resumes after the last id', { timeout: 120_000 }, async (t) => {
  const { url } = await startDeployment(t);
  const client = new ChatClient({ baseUrl: url });
  const app = await client.createApplication('watched');
  const chat = await client.createChat(app.token);
  for (let i = 1; i <= 3; i++) await client.createMessage(app.token, chat.number, `before ${i}`);
  const abort = new AbortController();
  t.after(() => abort.abort());
  const seen: number[] = [];
  let lastId = '';
  const watching = (async () => {
    for await (const event of client.watch(app.token, chat.number, { after: 1, signal: abort.signal })) {
      if (event.type === 'message.created') seen.push(event.message.number);
      lastId = event.id;
      if (seen.length === 6) return;
    }
  })();
  for (let i = 4; i <= 7; i++) await client.createMessage(app.token, chat.number, `live ${i}`);
  await watching;
  assert.deepEqual(seen, [2, 3, 4, 5, 6, 7]);
  await client.createMessage(app.token, chat.number, 'after the break');
  const resumed = [];
  for await (const event of client.watch(app.token, chat.number, { lastEventId: lastId, signal: abort.signal })) {
    resumed.push(event.message.number);
    break;
  }
  assert.deepEqual(resumed, [8]);
  await assert.rejects(async () => {
    for await (const _ of client.watch('nope', 1)) break;
  }, (err: ChatApiError) => err.status === 404);
});
