import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
 * form as local time. The 201 (made from the written entity) was right; every GET, list, search document built
 * by `npm run reindex` and replay of an earlier attempt said another time. Now the text is rewritten, not parsed.
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

  const { url, namespace } = await startDeployment(t, { env: { INDEXER_FLUSH_MS: '50' } });
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

  // an idempotent retry finds the first attempt's row and answers from it
  const keyed = await call(url, 'POST', messagePath, { body: 'keyed' }, { 'idempotency-key': 'zoned-retry' });
  const again = await call(url, 'POST', messagePath, { body: 'keyed' }, { 'idempotency-key': 'zoned-retry' });
  assert.equal(again.body.created_at, keyed.body.created_at, 'the replayed 201');

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
