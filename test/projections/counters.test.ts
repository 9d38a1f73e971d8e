import assert from 'node:assert/strict';
import { test } from 'node:test';
import type mysql from 'mysql2/promise';
import { connect } from 'nats';
import { eventsOf } from '../../src/protocol/events.js';
import { names } from '../../src/protocol/subjects.js';
import { COUNTERS } from '../../src/projections/counters.js';
import { NATS_URL } from '../support/env.js';
import { openDb, range } from '../support/db.js';
import { call, startDeployment, waitFor } from '../support/harness.js';

interface Counts { chats: Map<number, { stored: number; truth: number }>; app: { stored: number; truth: number } }

/** Stored counters and the truth; the stored values are read first, so stored > truth is a real overcount. */
async function counts(db: mysql.Connection, token: string): Promise<Counts> {
  const [stored] = await db.query(
    `SELECT c.id, c.number, c.messages_count, a.chats_count FROM chats c JOIN applications a ON a.id = c.application_id WHERE a.token = ?`, [token]);
  const [truth] = await db.query(
    `SELECT c.number, (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id) AS n FROM chats c JOIN applications a ON a.id = c.application_id WHERE a.token = ?`, [token]);
  const [appTruth] = await db.query('SELECT COUNT(*) AS n FROM chats c JOIN applications a ON a.id = c.application_id WHERE a.token = ?', [token]);
  const [app] = await db.query('SELECT chats_count FROM applications WHERE token = ?', [token]);
  const truthBy = new Map((truth as { number: number; n: number }[]).map((r) => [Number(r.number), Number(r.n)]));
  return {
    chats: new Map((stored as { number: number; messages_count: number }[]).map((r) => [Number(r.number), { stored: Number(r.messages_count), truth: truthBy.get(Number(r.number)) ?? 0 }])),
    app: { stored: Number((app as { chats_count: number }[])[0]!.chats_count), truth: Number((appTruth as { n: number }[])[0]!.n) },
  };
}

function assertNeverAbove(c: Counts): void {
  assert.ok(c.app.stored <= c.app.truth, `chats_count ${c.app.stored} above the truth ${c.app.truth}`);
  for (const [n, v] of c.chats) assert.ok(v.stored <= v.truth, `chat ${n}: messages_count ${v.stored} above the truth ${v.truth}`);
}

const converged = (c: Counts): boolean => c.app.stored === c.app.truth && [...c.chats.values()].every((v) => v.stored === v.truth);

test('counters converge after concurrent creations and never exceed the truth after redeliveries', { timeout: 180_000 }, async (t) => {
  const { url, namespace } = await startDeployment(t, { env: { COUNTERS_FLUSH_MS: '100', RECONCILE_INTERVAL_MS: '0' } });
  const db = await openDb(namespace);
  t.after(() => db.end());
  const token = (await call(url, 'POST', '/applications', { name: 'counters' })).body.token as string;

  const chats = await Promise.all(range(12).map(() => call(url, 'POST', `/applications/${token}/chats`, {})));
  assert.ok(chats.every((r) => r.status === 201));
  // skewed load: chat 1 is hot
  const jobs = range(600).map((i) => (i % 3 === 0 ? 1 : 1 + (i % 12)));
  // the writer only records what it got: an assertion inside it would end it without stopping the watch below
  let writing = true;
  const statuses: number[] = [];
  const writer = (async () => {
    try {
      for (let i = 0; i < jobs.length; i += 40) {
        const replies = await Promise.all(jobs.slice(i, i + 40).map((chat) => call(url, 'POST', `/applications/${token}/chats/${chat}/messages`, { body: `m${chat}` })));
        statuses.push(...replies.map((r) => r.status));
      }
    } finally {
      writing = false;
    }
  })();
  // while the load runs, the counters may lag but never run ahead of the rows
  while (writing) {
    assertNeverAbove(await counts(db, token));
    await new Promise((r) => setTimeout(r, 50));
  }
  await writer;
  assert.deepEqual(statuses.filter((s) => s !== 201), [], 'every creation answered 201');
  assert.equal(statuses.length, jobs.length);
  const final = await waitFor('counters converge', async () => {
    const c = await counts(db, token);
    assertNeverAbove(c);
    return converged(c) ? c : undefined;
  });
  assert.equal(final.app.truth, 12);
  assert.equal(final.chats.get(1)!.truth, jobs.filter((c) => c === 1).length);

  // the API shows them too (the cache may hold a chat for CACHE_TTL_SECONDS)
  await waitFor('API shows the counters', async () => {
    const chat = await call(url, 'GET', `/applications/${token}/chats/1`);
    return chat.body.messages_count === final.chats.get(1)!.truth;
  });

  // redeliveries: every chat and message event is published again (new ids, so JetStream keeps them) and
  // consumed a second time; nothing may be counted twice
  const nc = await connect({ servers: NATS_URL });
  t.after(() => nc.close());
  const n = names(namespace);
  const js = nc.jetstream();
  const replayer = await js.consumers.get(n.eventsStream, { filterSubjects: n.eventsAll });
  const info = await (await nc.jetstreamManager()).streams.info(n.eventsStream);
  const events: Array<{ subject: string; data: Uint8Array; seq: number }> = [];
  while (events.length < info.state.messages) {
    const iter = await replayer.fetch({ max_messages: 500, expires: 2000 });
    for await (const m of iter) events.push({ subject: m.subject, data: m.data, seq: m.seq });
  }
  for (const e of events) await js.publish(e.subject, e.data, { msgID: `redelivery-${e.seq}` });
  assert.equal(events.length, info.state.messages);
  const republished = events.reduce((n, e) => n + eventsOf(JSON.parse(Buffer.from(e.data).toString())).length, 0);
  assert.ok(republished >= 613, `${republished} events republished`);
  const jsm = await nc.jetstreamManager();
  await waitFor('redelivered events consumed', async () => {
    const ci = await jsm.consumers.info(n.eventsStream, COUNTERS);
    return ci.num_pending === 0 && ci.num_ack_pending === 0;
  });
  const after = await counts(db, token);
  assertNeverAbove(after);
  assert.ok(converged(after), 'counters unchanged by redeliveries');
  assert.deepEqual(after, final);
});

test('reconciliation repairs drift in both directions', { timeout: 120_000 }, async (t) => {
  const { url, namespace } = await startDeployment(t, { env: { COUNTERS_FLUSH_MS: '100', RECONCILE_INTERVAL_MS: '300' } });
  const db = await openDb(namespace);
  t.after(() => db.end());
  const token = (await call(url, 'POST', '/applications', { name: 'drift' })).body.token as string;
  for (let i = 0; i < 3; i++) await call(url, 'POST', `/applications/${token}/chats`, {});
  await Promise.all(range(30).map((i) => call(url, 'POST', `/applications/${token}/chats/${1 + (i % 3)}/messages`, { body: 'x' })));
  await waitFor('counters converge', async () => converged(await counts(db, token)));

  // drift: an overcount, an undercount and a wrong chats_count, written behind the service's back
  await db.query('UPDATE chats c JOIN applications a ON a.id = c.application_id SET c.messages_count = c.messages_count + 7 WHERE a.token = ? AND c.number = 1', [token]);
  await db.query('UPDATE chats c JOIN applications a ON a.id = c.application_id SET c.messages_count = 0 WHERE a.token = ? AND c.number = 2', [token]);
  await db.query('UPDATE applications SET chats_count = 99 WHERE token = ?', [token]);
  const repaired = await waitFor('drift repaired', async () => {
    const c = await counts(db, token);
    return converged(c) ? c : undefined;
  });
  assert.equal(repaired.app.stored, 3);
  assert.deepEqual([...repaired.chats.values()].map((v) => v.stored).sort(), [10, 10, 10]);
});
