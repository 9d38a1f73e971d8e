import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { connect } from 'nats';
import { partitionOf, routingKey } from '../../src/protocol/partition.js';
import { names } from '../../src/protocol/subjects.js';
import { NATS_URL, dropDeployment, uniqueName } from '../support/env.js';
import { call, waitFor } from '../support/harness.js';
import { messageNumbers, openDb, range } from '../support/db.js';
import { spawnService, type ServiceProcess } from '../support/processes.js';

/**
 * kill -9 of an actor process while requests are in flight: the survivor takes over its partitions, every
 * request either succeeds or gets 503 and then succeeds when retried with its Idempotency-Key, and every
 * 201 is persisted exactly once with gapless numbers.
 */
type Stop = 'kill -9' | 'SIGTERM';

test('a killed actor process is taken over; in-flight writes succeed or are retried idempotently', { timeout: 240_000 }, (t) => takeover(t, 'kill -9'));

test('an actor process stopped with SIGTERM drains, hands its partitions over without a failed request and exits 0', { timeout: 240_000 }, (t) => takeover(t, 'SIGTERM'));

async function takeover(t: TestContext, how: Stop): Promise<void> {
  const namespace = uniqueName();
  const procs: ServiceProcess[] = [];
  t.after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await dropDeployment(namespace);
  });
  // a killed process's commands wait for its lease to expire: short timeouts, so that clients retry; a graceful
  // handover must answer every request, with a timeout that leaves room for a busy machine
  const env = { LEASE_TTL_MS: '3000', COMMAND_TIMEOUT_MS: how === 'kill -9' ? '3000' : '10000' };
  const start = async (roles: string): Promise<ServiceProcess> => {
    const proc = await spawnService(namespace, { ...env, ROLES: roles });
    procs.push(proc);
    return proc;
  };
  const victim = await start('actors');
  const survivor = await start('actors');
  const api = await start('api');
  const url = api.url!;
  const db = await openDb(namespace);
  t.after(() => db.end());

  // setup requests retry on 503 too (partitions may still be moving to the second actor process), after its
  // Retry-After and for a bounded time
  async function create(path: string, body?: unknown): Promise<{ status: number; body: { token?: string } }> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await call(url, 'POST', path, body, { 'idempotency-key': `setup ${path} ${JSON.stringify(body)}` });
      if (res.status !== 503) return res;
      assert.ok(Date.now() < deadline, `${path}: still 503 after 60 s: ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, Math.min(1000, 1000 * Number(res.headers.get('retry-after') ?? 1))));
    }
  }
  const token = (await create('/applications', { name: 'ownership' })).body.token as string;
  // pick chats so that some live in the victim's partitions and some in the survivor's, once the partitions
  // have spread over both processes (the survivor joined after the victim had taken them all)
  let owners: string[] = [];
  await waitFor('partitions leased by both actor processes', async () => {
    owners = await leaseOwners(namespace);
    return owners.length === 8 && [victim, survivor].every((p) => owners.some((o) => o.includes(`-${p.child.pid}-`)));
  });
  const onVictim = (chat: number): boolean => owners[partitionOf(routingKey.chat(token, chat), 8)]!.includes(`-${victim.child.pid}-`);
  const chosen: number[] = [];
  for (let chat = 1; chosen.filter(onVictim).length < 3 || chosen.filter((c) => !onVictim(c)).length < 3; chat++) {
    assert.ok(chat <= 200, 'chats spread over both processes');
    assert.equal((await create(`/applications/${token}/chats`, { name: `chat ${chat}` })).status, 201);
    if (chosen.filter((c) => onVictim(c) === onVictim(chat)).length < 3) chosen.push(chat);
  }

  const perChat = 60;
  const jobs = chosen.flatMap((chat) => range(perChat).map((i) => ({ chat, key: `c${chat}-m${i}` })));
  let completed = 0;
  let retried = 0;
  const results = new Map<string, { chat: number; number: number }>();

  async function send(job: { chat: number; key: string }): Promise<void> {
    for (let attempt = 0; attempt < 40; attempt++) {
      const res = await call(url, 'POST', `/applications/${token}/chats/${job.chat}/messages`, { body: job.key }, { 'idempotency-key': job.key });
      if (res.status === 201) {
        results.set(job.key, { chat: job.chat, number: res.body.number as number });
        completed++;
        return;
      }
      assert.ok([503, 504].includes(res.status), `unexpected ${res.status} ${JSON.stringify(res.body)}`);
      assert.ok(res.headers.get('retry-after'), '503 carries Retry-After');
      retried++;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${job.key} never succeeded; survivor said:\n${survivor.output.filter((l) => !l.includes('"level":30,') || l.includes('partition')).slice(-40).join('\n')}`);
  }

  // 24 clients in parallel; the victim dies once a quarter of the writes are done
  const queue = [...jobs];
  const clients = range(24).map(async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await send(job);
  });
  await waitFor('a quarter of the writes', async () => completed >= jobs.length / 4, 60_000, 10);
  const victimLeases = (await leaseOwners(namespace)).filter((owner) => owner.includes(`-${victim.child.pid}-`)).length;
  assert.ok(victimLeases > 0, 'the victim owned partitions when it was stopped');
  if (how === 'kill -9') {
    await victim.kill9();
  } else {
    assert.equal(await victim.stop(), 0, 'graceful shutdown exits 0');
  }
  await Promise.all(clients);

  assert.equal(results.size, jobs.length);
  for (const chat of chosen) {
    const replied = [...results.values()].filter((r) => r.chat === chat).map((r) => r.number).sort((a, b) => a - b);
    assert.deepEqual(replied, range(perChat), `chat ${chat}: every 201 has its own number`);
    assert.deepEqual(await messageNumbers(db, token, chat), range(perChat), `chat ${chat}: rows 1..N, each once`);
  }
  // each idempotency key's message holds its own body
  const [rows] = await db.query('SELECT body, COUNT(*) AS n FROM messages GROUP BY body HAVING n > 1');
  assert.deepEqual(rows, [], 'no body stored twice');
  t.diagnostic(`${how}: the victim owned ${victimLeases} of 8 partitions; requests retried after 503: ${retried}`);
  if (how === 'SIGTERM') assert.equal(retried, 0, 'a graceful handover answers every request (no 503)');

  // the survivor now owns every partition: a new chat in any partition works
  const after = await call(url, 'POST', `/applications/${token}/chats/${chosen.find(onVictim)}/messages`, { body: 'after' });
  assert.equal(after.status, 201);
  assert.equal(after.body.number, perChat + 1);
  await waitFor('the survivor to own every partition', async () => {
    const owners = await leaseOwners(namespace);
    return owners.length === 8 && owners.every((o) => o.includes(`-${survivor.child.pid}-`));
  });
}

/** Current holder (member id) of every partition lease in the ownership KV bucket. */
async function leaseOwners(namespace: string): Promise<string[]> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const kv = await nc.jetstream().views.kv(names(namespace).ownershipBucket);
    const owners: string[] = [];
    for (let p = 0; p < 8; p++) {
      const entry = await kv.get(names(namespace).leaseKey(p));
      if (entry && entry.operation === 'PUT') owners.push((entry.json() as { owner: string }).owner);
    }
    return owners;
  } finally {
    await nc.close();
  }
}
