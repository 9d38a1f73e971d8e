import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createInbox } from 'nats';
import { decodeJson, encodeJson } from '../../src/messaging/nats.js';
import { actorOf, type Command, type CommandEnvelope } from '../../src/protocol/commands.js';
import { partitionOf, routingKeyOf } from '../../src/protocol/partition.js';
import type { CommandReply } from '../../src/protocol/replies.js';
import { names } from '../../src/protocol/subjects.js';
import { isoUtc } from '../../src/storage/presenters.js';
import { testEnv } from '../support/env.js';
import { call, startDeployment, waitFor } from '../support/harness.js';
import { ensureSearchEngine } from '../support/search-engine.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ZONE = 'America/New_York';

/**
 * Dates read back from MySQL were shifted by the process's UTC offset when its TZ was not UTC: MikroORM's MySQL
 * driver returns DATETIME columns as text ("2026-12-06 02:11:00.123", in UTC), and `new Date(text)` reads that
 * form as local time. The 201 (made from the written entity) was right; every GET or list read from MySQL, every
 * search document built by `npm run reindex`, and the answer to a command delivered again after its commit (found
 * by command id) said another time. Now the text is rewritten, not parsed.
 */
test('with TZ other than UTC, every read of a message, chat and application says the time of its 201', { timeout: 180_000 }, async (t) => {
  await ensureSearchEngine();
  const zoneBefore = process.env['TZ'];
  process.env['TZ'] = ZONE; // Node applies a change of TZ to the running process
  t.after(() => {
    if (zoneBefore === undefined) delete process.env['TZ'];
    else process.env['TZ'] = zoneBefore;
  });
  assert.notEqual(new Date(2026, 0, 1).getTimezoneOffset(), 0, `the test needs ${ZONE} to have an offset`);

  const { url, namespace, config, runtime } = await startDeployment(t, { env: { INDEXER_FLUSH_MS: '50' } });
  const startedAt = Date.now();
  const app = await call(url, 'POST', '/applications', { name: 'zoned' });
  const token = app.body.token as string;
  const chat = await call(url, 'POST', `/applications/${token}/chats`, { name: 'zoned' });
  const message = await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: 'zoned needle' });
  assert.equal(message.status, 201);
  const created = message.body.created_at as string;
  assert.ok(Math.abs(Date.parse(created) - startedAt) < 60_000, `the 201 says ${created}, the test started at ${new Date(startedAt).toISOString()}`);

  const messagePath = `/applications/${token}/chats/1/messages`;
  const reads = {
    'GET message': (await call(url, 'GET', `${messagePath}/1`)).body,
    'list messages': (await call(url, 'GET', messagePath)).body[0],
    'GET chat': (await call(url, 'GET', `/applications/${token}/chats/1`)).body,
    'list chats': (await call(url, 'GET', `/applications/${token}/chats`)).body[0],
    'GET application': (await call(url, 'GET', `/applications/${token}`)).body,
  };
  const written = { 'GET message': message.body, 'list messages': message.body, 'GET chat': chat.body, 'list chats': chat.body, 'GET application': app.body };
  for (const [what, read] of Object.entries(reads)) {
    const first = written[what as keyof typeof written];
    assert.equal(read.created_at, first.created_at, `${what}: created_at`);
    assert.equal(read.updated_at, first.updated_at, `${what}: updated_at`);
  }

  // a command delivered again after its commit (a crashed owner, or a keyed retry that took over an unfinished
  // attempt): the actor finds the row by command id and answers from it, not from the entity it wrote
  const nc = runtime.nc!;
  const command: Command = { type: 'CreateMessage', token, chat_number: 1, body: 'delivered twice' };
  const key = routingKeyOf(actorOf({ id: 'zoned-twice', command }));
  const subject = names(namespace).commandSubject(partitionOf(key, config.partitions), key);
  const deliver = async (): Promise<CommandReply> => {
    const inbox = createInbox();
    const sub = nc.subscribe(inbox, { max: 1 });
    nc.publish(subject, encodeJson({ id: 'zoned-twice', idempotent: true, reply_to: inbox, command } satisfies CommandEnvelope));
    for await (const msg of sub) return decodeJson(msg.data) as CommandReply;
    throw new Error('no reply');
  };
  const first = await deliver();
  const second = await deliver();
  assert.ok(first.ok && second.ok, JSON.stringify([first, second]));
  assert.deepEqual(second.resource, first.resource, 'the answer found by command id is the answer of the write');

  // search documents: from the message events, and rebuilt from MySQL by `npm run reindex` in the same zone
  const searched = async (): Promise<string | undefined> => {
    const res = await call(url, 'GET', `${messagePath}/search?query=needle`);
    return res.status === 200 && res.body.length === 1 ? (res.body[0].created_at as string) : undefined;
  };
  assert.equal(await waitFor('the message searchable', searched), created, 'indexed from its event');
  await run('node', ['--import', 'tsx', 'src/search/reindex-cli.ts'], { cwd: ROOT, env: { ...process.env, ...testEnv(namespace), TZ: ZONE, LOG_LEVEL: 'warn' } });
  assert.equal(await waitFor('the message searchable after the reindex', searched), created, 'rebuilt from MySQL');
});

test('isoUtc: the text forms of DATETIME, and a Date', () => {
  assert.equal(isoUtc('2026-12-06 02:11:00.123'), '2026-12-06T02:11:00.123Z');
  assert.equal(isoUtc('2026-12-06 02:11:00'), '2026-12-06T02:11:00.000Z');
  assert.equal(isoUtc('2026-12-06 02:11:00.5'), '2026-12-06T02:11:00.500Z');
  assert.equal(isoUtc('2026-12-06 02:11:00.123456'), '2026-12-06T02:11:00.123Z');
  assert.equal(isoUtc(new Date(Date.UTC(2026, 11, 6, 2, 11, 0, 123))), '2026-12-06T02:11:00.123Z');
  assert.throws(() => isoUtc('yesterday'), /not a MySQL DATETIME/);
});
