/**
 * Delay from a 201 to the event on a live stream, under a steady write load (README "Live"): starts the service
 * (all roles, one process, a fresh namespace and database), opens one SSE stream per chat, creates messages at a
 * steady rate spread over the chats, and reports the delay between the client receiving each 201 and the same
 * client receiving the message's `message.created` event (negative when the event came first).
 *
 *   tsx bench/live-latency.ts [--rate 200] [--seconds 30] [--chats 4] [--streams-per-chat 2]
 */
import { parseArgs } from 'node:util';
import { dropDeployment, uniqueName } from '../test/support/env.js';
import { spawnService } from '../test/support/processes.js';
import { openSse, type SseStream } from '../test/support/sse.js';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '30' }, chats: { type: 'string', default: '4' }, 'streams-per-chat': { type: 'string', default: '2' } } });
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const chatCount = Number(values.chats);
const perChat = Number(values['streams-per-chat']);

const namespace = uniqueName('livebench');
const service = await spawnService(namespace, {});
try {
  const url = service.url!;
  const post = async (path: string, body: unknown): Promise<{ status: number; json: { token?: string; number: number } }> => {
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() as { token?: string; number: number } };
  };
  const token = (await post('/applications', { name: 'live latency' })).json.token!;
  const chats = [];
  for (let c = 0; c < chatCount; c++) chats.push(`/applications/${token}/chats/${(await post(`/applications/${token}/chats`, {})).json.number}`);

  // per chat: number → time of the 201, and per stream: number → time of the event
  const acked = chats.map(() => new Map<number, number>());
  const streams: Array<{ chat: number; stream: SseStream; seenAt: Map<number, number> }> = [];
  for (let c = 0; c < chatCount; c++) {
    for (let s = 0; s < perChat; s++) {
      const stream = await openSse(`${url}${chats[c]}/messages/stream`);
      const seenAt = new Map<number, number>();
      streams.push({ chat: c, stream, seenAt });
      let read = 0;
      void stream.until('never', (events) => {
        for (; read < events.length; read++) {
          const e = events[read]!;
          if (e.event === 'message.created') seenAt.set((JSON.parse(e.data) as { number: number }).number, performance.now());
        }
        return false;
      }, seconds * 1000 + 60_000).catch(() => undefined);
    }
  }

  // steady load: one creation every 1/rate s, round robin over the chats, not waiting for the previous one
  const total = rate * seconds;
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  let failures = 0;
  const statuses: Record<string, number> = {};
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const c = i % chatCount;
    inFlight.push(post(`${chats[c]}/messages`, { body: `message ${i}` }).then(({ status, json }) => {
      if (status === 201) acked[c]!.set(json.number, performance.now());
      else {
        failures += 1;
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }, (err: Error) => {
      failures += 1;
      statuses[err.message] = (statuses[err.message] ?? 0) + 1;
    }));
  }
  await Promise.all(inFlight);
  await new Promise((r) => setTimeout(r, 2000));

  const delays: number[] = [];
  let missing = 0;
  for (const { chat, seenAt } of streams) {
    for (const [number, at] of acked[chat]!) {
      const seen = seenAt.get(number);
      if (seen === undefined) missing += 1;
      else delays.push(seen - at);
    }
  }
  delays.sort((a, b) => a - b);
  const q = (p: number): string => (delays[Math.min(delays.length - 1, Math.floor(p * delays.length))] ?? NaN).toFixed(1);
  console.log(JSON.stringify({
    rate_per_s: rate, seconds, chats: chatCount, streams: streams.length, created: acked.reduce((n, m) => n + m.size, 0), failures, statuses, missing_events: missing,
    delay_ms: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1), min: q(0) },
  }, null, 2));
  for (const { stream } of streams) stream.close();
} finally {
  await service.stop();
  await dropDeployment(namespace);
}
