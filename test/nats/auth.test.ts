import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import mysql from 'mysql2/promise';
import { RequestStrategy, connect, headers, nkeys, type NatsConnection, type Status } from 'nats';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { connectNats, natsAuthOf } from '../../src/messaging/nats.js';
import { MYSQL_URL, TEST_ADMIN_KEY, uniqueName } from '../support/env.js';
import { startDeployment, waitFor } from '../support/harness.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';

const SERVICE_PASSWORD = 'service-secret-for-this-test';
const CLIENT_PASSWORD = 'client-secret-for-this-test';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A private nats-server with exactly the accounts, users and permissions of deploy/nats/auth.conf. */
async function composeAuthServer(): Promise<NatsServer> {
  const auth = await readFile(new URL('../../deploy/nats/auth.conf', import.meta.url), 'utf8');
  const server = await startNatsServer('include ./auth.conf', {
    files: { 'auth.conf': auth },
    env: { NATS_SERVICE_PASSWORD: SERVICE_PASSWORD, NATS_CLIENT_PASSWORD: CLIENT_PASSWORD },
  });
  return server;
}

/** A connection that records every status event (permission violations arrive that way). */
async function watched(server: NatsServer, user: string, pass: string): Promise<{ nc: NatsConnection; statuses: Status[] }> {
  const nc = await connect({ servers: server.url, user, pass, name: `auth-test-${user}` });
  const statuses: Status[] = [];
  void (async () => {
    for await (const s of nc.status()) statuses.push(s);
  })();
  return { nc, statuses };
}

const violation = (statuses: Status[], operation: 'publish' | 'subscription', subject: string): Status | undefined =>
  statuses.find((s) => s.data === 'PERMISSIONS_VIOLATION' && s.permissionContext?.operation === operation && s.permissionContext.subject === subject);

test('nats auth: with deploy/nats/auth.conf the service runs as its user; the client user may only call the API', { timeout: 120_000 }, async (t) => {
  const server = await composeAuthServer();
  // the auth config is written for NAMESPACE=chat; on this private server nothing else uses it. Own database.
  const database = uniqueName('natsauth');
  // after-hooks run in registration order: the deployment stops before its NATS server does
  const { runtime } = await startDeployment(t, {
    namespace: 'chat', keep: true,
    env: { NATS_URL: server.url, NATS_USER: 'chat-service', NATS_PASSWORD: SERVICE_PASSWORD, DATABASE_URL: `${MYSQL_URL}/${database}`, ROLES: 'api,actors' },
  }).catch(async (err: unknown) => {
    await server.stop();
    throw err;
  });
  t.after(async () => {
    await server.stop();
    const conn = await mysql.createConnection(MYSQL_URL);
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``).finally(() => conn.end());
  });
  assert.ok(runtime.nc && !runtime.nc.isClosed(), 'the service is connected with its user');

  const { nc, statuses } = await watched(server, 'chat-client', CLIENT_PASSWORD);
  t.after(() => nc.close());
  const request = async (op: string, payload: unknown, hdrs: Record<string, string> = {}): Promise<{ code?: string; body: any }> => { // eslint-disable-line @typescript-eslint/no-explicit-any -- asserted field by field
    const h = headers();
    for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    const msg = await nc.request(`chat.api.v1.${op}`, encoder.encode(JSON.stringify(payload)), { timeout: 15_000, headers: h });
    return { code: msg.headers?.get('Nats-Service-Error-Code') || undefined, body: JSON.parse(decoder.decode(msg.data)) };
  };

  // the API works for the client user (through the import from the service's account)
  const app = await request('applications.create', { name: 'over nats' }, { 'Idempotency-Key': 'k1' });
  assert.equal(app.code, undefined, JSON.stringify(app.body));
  const token = app.body.token as string;
  assert.equal((await request('chats.create', { token })).body.number, 1);
  const created = await request('messages.create', { token, chat_number: 1, body: 'secret body' });
  assert.equal(created.body.number, 1);
  const got = await request('messages.get', { token, chat_number: 1, message_number: 1 });
  assert.equal(got.body.body, 'secret body');
  assert.equal((await request('applications.list', {})).code, '401', 'the listing still needs the operator credential');
  assert.equal((await request('applications.list', {}, { Authorization: `Bearer ${TEST_ADMIN_KEY}` })).body.length, 1);
  // $SRV discovery too
  const pings = [];
  for await (const ping of await nc.services.client({ strategy: RequestStrategy.Timer, maxWait: 2000 }).ping('chat')) pings.push(ping);
  assert.ok(pings.length >= 1, 'the service answers $SRV.PING');
  // the live message events of a chat (read only, imported from the service's account; docs/API.md, "Live updates")
  const live = nc.subscribe(`chat.live.chat.${token}.1`, { max: 1 });
  await nc.flush();
  assert.equal((await request('messages.create', { token, chat_number: 1, body: 'live body' })).body.number, 2);
  for await (const msg of live) {
    const { events } = JSON.parse(decoder.decode(msg.data)) as { events: Array<{ type: string; number: number; body: string }> };
    assert.deepEqual(events.map((e) => [e.type, e.number, e.body]), [['MessageCreated', 2, 'live body']]);
  }

  // ... and nothing else: no events, commands or replies, no publishing of commands, no JetStream
  const received: string[] = [];
  for (const subject of ['chat.evt.>', 'chat.cmd.>', 'chat.reply.>', '>', '$JS.API.>', '$KV.chat_idempotency.>']) {
    const refused: Error[] = [];
    nc.subscribe(subject, { callback: (err, msg) => (err ? refused.push(err) : received.push(msg.subject)) });
    await waitFor(`permissions violation for subscribing to ${subject}`, async () => violation(statuses, 'subscription', subject), 10_000);
    assert.match(String(refused[0]), /Permissions Violation/i, `the subscription to ${subject} is refused`);
  }
  nc.publish('chat.cmd.0.app.x', encoder.encode(JSON.stringify({ id: 'forged', command: { type: 'UpdateApplication', token, name: 'pwned' } })));
  await waitFor('permissions violation for publishing a command', async () => violation(statuses, 'publish', 'chat.cmd.0.app.x'), 10_000);
  nc.publish('chat.evt.application.0', encoder.encode('{}'));
  await waitFor('permissions violation for publishing an event', async () => violation(statuses, 'publish', 'chat.evt.application.0'), 10_000);
  await assert.rejects(async () => (await nc.jetstreamManager()).streams.info('CHAT_COMMANDS'), 'no JetStream for clients');
  assert.equal((await request('applications.get', { token })).body.name, 'over nats', 'no forged command was applied');
  // more traffic of the service (commands, events, replies) while the refused subscriptions exist
  assert.equal((await request('messages.create', { token, chat_number: 1, body: 'another secret' })).body.number, 3);
  assert.deepEqual(received, [], 'the client saw none of the service\'s traffic');
  assert.ok(!nc.isClosed(), 'violations do not close the client');

  // a connection without credentials, or with wrong ones, is refused
  await assert.rejects(connect({ servers: server.url, reconnect: false }), (err: Error & { code?: string }) => err.code === 'AUTHORIZATION_VIOLATION');
  await assert.rejects(connect({ servers: server.url, user: 'chat-client', pass: 'wrong', reconnect: false }), (err: Error & { code?: string }) => err.code === 'AUTHORIZATION_VIOLATION');
  await assert.rejects(connect({ servers: server.url, user: 'chat-service', pass: CLIENT_PASSWORD, reconnect: false }), (err: Error & { code?: string }) => err.code === 'AUTHORIZATION_VIOLATION');
});

test('nats auth: the service authenticates with a token, an NKEY seed file or user/password (config)', async (t) => {
  const log = createLogger('silent');
  const user = nkeys.createUser();
  const dir = await mkdtemp(join(tmpdir(), 'nats-seed-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const seedFile = join(dir, 'service.nk');
  await writeFile(seedFile, `${decoder.decode(user.getSeed())}\n`, { mode: 0o600 });
  const cases: Array<[string, string, Record<string, string>]> = [
    ['token', 'authorization { token: "s3cret-token" }', { NATS_TOKEN: 's3cret-token' }],
    ['nkey', `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }`, { NATS_NKEY_SEED_FILE: seedFile }],
    ['user/password', 'authorization { users: [ { user: svc, password: pw } ] }', { NATS_USER: 'svc', NATS_PASSWORD: 'pw' }],
  ];
  for (const [what, conf, env] of cases) {
    const server = await startNatsServer(conf);
    try {
      const nc = await connectNats(server.url, 'auth-test', log, natsAuthOf(loadConfig(env)));
      await nc.flush();
      await nc.close();
      await assert.rejects(connect({ servers: server.url, reconnect: false }), `${what}: no credentials, no connection`);
    } finally {
      await server.stop();
    }
  }

  assert.throws(() => loadConfig({ NATS_USER: 'a', NATS_TOKEN: 'b' }), ConfigError, 'one way at most');
  assert.throws(() => loadConfig({ NATS_PASSWORD: 'p' }), ConfigError, 'a password needs a user');
  assert.deepEqual(natsAuthOf(loadConfig({})), {}, 'none by default');
});
