/**
 * The client side of scripts/compose-test.sh: talks to the docker-compose stack only through what it publishes on
 * 127.0.0.1 (nginx → api, and NATS for request/reply). Two commands:
 *
 *   tsx scripts/compose-test.ts smoke   an application, chats and messages over HTTP; search finds them; the
 *                                       counters converge; NATS request/reply as the `chat-client` user
 *   tsx scripts/compose-test.ts load    a steady write load (Idempotency-Key on every write, retried with the
 *                                       same key on 503/429/a lost connection) until the file COMPOSE_TEST_STOP
 *                                       exists (or COMPOSE_TEST_LOAD_S passes); then every chat's numbers are
 *                                       1..N with no gap or duplicate, every 201 is persisted once at its
 *                                       number, and messages_count converges to N
 *
 * Environment: COMPOSE_TEST_URL (http://127.0.0.1:3000), COMPOSE_TEST_NATS_URL (nats://127.0.0.1:14222),
 * NATS_CLIENT_PASSWORD (chat-client-dev-password), COMPOSE_TEST_STOP, COMPOSE_TEST_LOAD_S (600),
 * COMPOSE_TEST_RATE (writes per second, 25). Exits non-zero on the first broken expectation.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, headers as natsHeaders, JSONCodec } from 'nats';

const URL_BASE = process.env.COMPOSE_TEST_URL ?? 'http://127.0.0.1:3000';
const NATS_URL = process.env.COMPOSE_TEST_NATS_URL ?? 'nats://127.0.0.1:14222';
const NATS_PASSWORD = process.env.NATS_CLIENT_PASSWORD ?? 'chat-client-dev-password';

type Json = Record<string, unknown>;
interface Res { status: number; body: Json | Json[]; headers: Headers }

function log(msg: string): void {
  console.log(`[compose-test] ${msg}`);
}

function fail(msg: string): never {
  console.error(`[compose-test] FAIL ${msg}`);
  process.exit(1);
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const res = await fetch(URL_BASE + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json | Json[]) : {}, headers: res.headers };
}

async function expect(method: string, path: string, status: number, body?: unknown): Promise<Json> {
  const res = await call(method, path, body);
  if (res.status !== status) fail(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}, expected ${status}`);
  return res.body as Json;
}

/** Polls `probe` until it returns true, up to `ms`; fails with `what` otherwise. */
async function eventually(what: string, ms: number, probe: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await probe()) return Date.now() - t0;
    await sleep(250);
  }
  return fail(`${what}: not within ${ms} ms`);
}

/** Every message of a chat, following the pages. */
async function allMessages(token: string, chat: number): Promise<Json[]> {
  const out: Json[] = [];
  let after = 0;
  for (;;) {
    const page = (await expect('GET', `/applications/${token}/chats/${chat}/messages?limit=1000&after=${after}`, 200)) as unknown as Json[];
    out.push(...page);
    const last = page.at(-1);
    if (page.length < 1000 || !last) return out;
    after = Number(last.number);
  }
}

async function smoke(): Promise<void> {
  const word = `compose${randomUUID().slice(0, 8)}`;
  const app = await expect('POST', '/applications', 201, { name: 'compose test' });
  const token = String(app.token);
  log(`application ${token.slice(0, 6)}…`);
  const chats = [];
  for (let i = 0; i < 2; i++) chats.push(Number((await expect('POST', `/applications/${token}/chats`, 201, {})).number));
  if (chats.join() !== '1,2') fail(`chat numbers ${chats.join()}, expected 1,2`);
  const bodies = [`hello ${word}`, 'no match here', `${word.toUpperCase()} again`];
  const numbers = [];
  for (const body of bodies) numbers.push(Number((await expect('POST', `/applications/${token}/chats/1/messages`, 201, { body })).number));
  await expect('POST', `/applications/${token}/chats/2/messages`, 201, { body: `other chat ${word}` });
  if (numbers.join() !== '1,2,3') fail(`message numbers ${numbers.join()}, expected 1,2,3`);
  const m1 = await expect('GET', `/applications/${token}/chats/1/messages/1`, 200);
  if (m1.body !== bodies[0]) fail(`GET message 1: ${JSON.stringify(m1)}`);
  log('created 2 chats and 4 messages; GET reads them back');

  const found = await eventually('search finds messages 1 and 3 of chat 1', 60_000, async () => {
    const res = await call('GET', `/applications/${token}/chats/1/messages/search?query=${word}`);
    return res.status === 200 && (res.body as Json[]).map((m) => m.number).join() === '1,3';
  });
  log(`search finds them (after ${found} ms)`);

  const counted = await eventually('chats_count = 2 and messages_count = 3', 60_000, async () => {
    const a = await call('GET', `/applications/${token}`);
    const c = await call('GET', `/applications/${token}/chats/1`);
    return (a.body as Json).chats_count === 2 && (c.body as Json).messages_count === 3;
  });
  log(`counters converge (after ${counted} ms)`);

  const nc = await connect({ servers: NATS_URL, user: 'chat-client', pass: NATS_PASSWORD, timeout: 10_000 });
  try {
    const jc = JSONCodec<Json>();
    const got = jc.decode((await nc.request('chat.api.v1.messages.get', jc.encode({ token, chat_number: 1, message_number: 1 }), { timeout: 10_000 })).data);
    if (got.body !== bodies[0]) fail(`NATS messages.get: ${JSON.stringify(got)}`);
    const h = natsHeaders();
    h.set('Idempotency-Key', randomUUID());
    const created = jc.decode((await nc.request('chat.api.v1.messages.create', jc.encode({ token, chat_number: 1, body: `over nats ${word}` }), { timeout: 10_000, headers: h })).data);
    if (created.number !== 4) fail(`NATS messages.create: ${JSON.stringify(created)}`);
    const viaHttp = await expect('GET', `/applications/${token}/chats/1/messages/4`, 200);
    if (viaHttp.body !== `over nats ${word}`) fail(`GET message 4 after the NATS create: ${JSON.stringify(viaHttp)}`);
  } finally {
    await nc.close();
  }
  log('NATS request/reply from outside (chat-client): messages.get and messages.create');
}

interface Write { chat: number; body: string; key: string; number?: number; attempts: number }

async function load(): Promise<void> {
  const stopFile = process.env.COMPOSE_TEST_STOP ?? '';
  const maxS = Number(process.env.COMPOSE_TEST_LOAD_S ?? 600);
  const rate = Number(process.env.COMPOSE_TEST_RATE ?? 25);
  const CHATS = 4;
  const WORKERS = 8;
  const token = String((await expect('POST', '/applications', 201, { name: 'compose load' })).token);
  for (let i = 1; i <= CHATS; i++) await expect('POST', `/applications/${token}/chats`, 201, {});
  log(`load: ${rate} writes/s over ${CHATS} chats of application ${token.slice(0, 6)}…, until ${stopFile || `${maxS} s`}`);

  const writes: Write[] = [];
  const statuses = new Map<string, number>();
  const count = (k: string): void => { statuses.set(k, (statuses.get(k) ?? 0) + 1); };
  let maxLatency = 0;
  let seq = 0;
  const t0 = Date.now();
  const stopped = (): boolean => (stopFile !== '' && existsSync(stopFile)) || Date.now() - t0 > maxS * 1000;

  async function write(w: Write): Promise<void> {
    const started = Date.now();
    // Retried with the same Idempotency-Key until confirmed: at most one message per logical write.
    while (Date.now() - started < 120_000) {
      w.attempts++;
      let res: Res | undefined;
      try {
        res = await call('POST', `/applications/${token}/chats/${w.chat}/messages`, { body: w.body }, { 'Idempotency-Key': w.key });
      } catch (err) {
        count(`error ${(err as Error).name}`);
      }
      if (res) count(String(res.status));
      if (res?.status === 201) {
        w.number = Number((res.body as Json).number);
        maxLatency = Math.max(maxLatency, Date.now() - started);
        return;
      }
      if (res && res.status !== 503 && res.status !== 429 && res.status !== 502 && res.status !== 504) {
        fail(`write ${w.key}: ${res.status} ${JSON.stringify(res.body)}`);
      }
      await sleep(Math.min(1000, 1000 * Number(res?.headers.get('retry-after') ?? 0.2) || 200));
    }
  }

  async function worker(): Promise<void> {
    while (!stopped()) {
      const n = seq++;
      const due = t0 + (n * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
      const w: Write = { chat: (n % CHATS) + 1, body: `load ${n} ${randomUUID()}`, key: randomUUID(), attempts: 0 };
      writes.push(w);
      await write(w);
    }
  }

  const reporter = setInterval(() => {
    const done = writes.filter((w) => w.number !== undefined).length;
    log(`load: ${done}/${writes.length} confirmed after ${Math.round((Date.now() - t0) / 1000)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 5000);
  await Promise.all(Array.from({ length: WORKERS }, worker));
  clearInterval(reporter);

  const unconfirmed = writes.filter((w) => w.number === undefined);
  log(`load done: ${writes.length} writes in ${Math.round((Date.now() - t0) / 1000)} s, ${writes.length - unconfirmed.length} confirmed (201), ` +
    `statuses ${JSON.stringify(Object.fromEntries(statuses))}, slowest confirmation ${maxLatency} ms`);
  if (unconfirmed.length > 0) fail(`${unconfirmed.length} writes never confirmed within 120 s of retries`);

  for (let chat = 1; chat <= CHATS; chat++) {
    const rows = await allMessages(token, chat);
    const mine = writes.filter((w) => w.chat === chat);
    const numbers = rows.map((r) => Number(r.number));
    for (let i = 0; i < numbers.length; i++) if (numbers[i] !== i + 1) fail(`chat ${chat}: numbers are not 1..N (position ${i} holds ${numbers[i]})`);
    if (rows.length !== mine.length) fail(`chat ${chat}: ${rows.length} messages stored for ${mine.length} confirmed writes`);
    const byNumber = new Map(rows.map((r) => [Number(r.number), String(r.body)]));
    const bodies = new Set(rows.map((r) => String(r.body)));
    if (bodies.size !== rows.length) fail(`chat ${chat}: a write is stored twice`);
    for (const w of mine) if (byNumber.get(w.number as number) !== w.body) fail(`chat ${chat}: the 201 number ${w.number} of ${w.key} holds ${byNumber.get(w.number as number)}`);
    const ms = await eventually(`chat ${chat}: messages_count = ${rows.length}`, 60_000, async () =>
      ((await call('GET', `/applications/${token}/chats/${chat}`)).body as Json).messages_count === rows.length);
    log(`chat ${chat}: numbers 1..${rows.length}, every 201 persisted once at its number, messages_count converged (${ms} ms)`);
  }
}

const command = process.argv[2];
if (command === 'smoke') await smoke();
else if (command === 'load') await load();
else fail(`usage: compose-test.ts smoke|load (got ${command})`);
log(`${command}: ok`);
