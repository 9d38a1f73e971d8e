import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dropDeployment, uniqueName } from '../support/env.js';
import { call } from '../support/harness.js';
import { chatNumbers, messageNumbers, openDb, range } from '../support/db.js';
import { spawnService, type ServiceProcess } from '../support/processes.js';

/**
 * Two API processes and two actor processes (separate OS processes) against one NATS/MySQL: concurrent
 * creations must come back numbered exactly 1..N per parent, each number once.
 */
test('numbers are unique and gapless under concurrency across processes', { timeout: 180_000 }, async (t) => {
  const namespace = uniqueName();
  const procs: ServiceProcess[] = [];
  t.after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await dropDeployment(namespace);
  });
  // actors first, so they create the database; then the APIs
  const start = async (roles: string): Promise<ServiceProcess> => {
    const proc = await spawnService(namespace, { ROLES: roles });
    procs.push(proc);
    return proc;
  };
  await start('actors');
  await start('actors');
  const apiA = await start('api');
  const apiB = await start('api');
  const apis = [apiA.url!, apiB.url!];
  const db = await openDb(namespace);
  t.after(() => db.end());

  const app = await call(apis[0]!, 'POST', '/applications', { name: 'load' });
  assert.equal(app.status, 201);
  const token = app.body.token as string;

  // chats: 60 concurrent creations through both APIs
  const chatReplies = await Promise.all(range(60).map((i) => call(apis[i % 2]!, 'POST', `/applications/${token}/chats`, { name: `c${i}` })));
  assert.deepEqual(chatReplies.filter((r) => r.status !== 201).map((r) => r.body), []);
  assert.deepEqual(chatReplies.map((r) => r.body.number as number).sort((a, b) => a - b), range(60));
  assert.deepEqual(await chatNumbers(db, token), range(60));

  // one hot chat: 400 concurrent messages
  const hot = await Promise.all(range(400).map((i) => call(apis[i % 2]!, 'POST', `/applications/${token}/chats/1/messages`, { body: `m${i}` })));
  assert.deepEqual(hot.filter((r) => r.status !== 201).map((r) => r.body), [], procs.flatMap((p) => p.output.filter((l) => /"level":(40|50)/.test(l))).slice(0, 20).join('\n'));
  assert.deepEqual(hot.map((r) => r.body.number as number).sort((a, b) => a - b), range(400));
  assert.deepEqual(await messageNumbers(db, token, 1), range(400));
  // each reply's number holds that reply's body
  const byNumber = new Map(hot.map((r) => [r.body.number as number, r.body.body as string]));
  const listed = await call(apis[1]!, 'GET', `/applications/${token}/chats/1/messages?limit=1000`);
  for (const m of listed.body as { number: number; body: string }[]) assert.equal(m.body, byNumber.get(m.number));

  // many chats at once: 30 chats × 20 messages, interleaved
  const jobs = range(30).flatMap((chat) => range(20).map((i) => ({ chat: chat + 1, i })));
  const spread = await Promise.all(jobs.map(({ chat, i }, k) => call(apis[k % 2]!, 'POST', `/applications/${token}/chats/${chat}/messages`, { body: `c${chat}-${i}` })));
  assert.deepEqual(spread.filter((r) => r.status !== 201).map((r) => r.body), []);
  for (let chat = 2; chat <= 31; chat++) {
    const numbers = spread.filter((_, k) => jobs[k]!.chat === chat).map((r) => r.body.number as number).sort((a, b) => a - b);
    assert.deepEqual(numbers, range(20), `chat ${chat} replies`);
    assert.deepEqual(await messageNumbers(db, token, chat), range(20), `chat ${chat} rows`);
  }
});
