/**
 * `npm run bench:search [-- --messages 100000 --runs 200]`: search latency through the HTTP API on one chat
 * of 100,000 messages. The rows are inserted straight into MySQL and bulk-indexed by the reindex code
 * (the same documents the indexer writes); then each query shape runs `runs` times, one at a time.
 * Uses DATABASE_URL / NATS_URL / REDIS_URL / ELASTICSEARCH_URL like the service; drops everything after.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { reindex } from '../src/search/reindex.js';
import { indexNames } from '../src/search/index-definition.js';
import { SearchEngine } from '../src/search/engine.js';
import { names } from '../src/protocol/subjects.js';
import { benchDeployment, percentiles, post } from './common.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = arg('messages', 100_000);
const RUNS = arg('runs', 200);

const WORDS = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'hello', 'world', 'chat', 'message', 'meeting', 'tomorrow',
  'lunch', 'deploy', 'release', 'bug', 'fix', 'review', 'café', 'straße', 'привет', '日本', 'ok', 'thanks', 'see', 'you', 'later', 'why', 'not'];

function body(i: number): string {
  const n = 5 + (i % 20);
  const words: string[] = [];
  for (let k = 0; k < n; k++) words.push(WORDS[(i * 7 + k * 13 + (i >> 3)) % WORDS.length]!);
  if (i % 10_000 === 1234) words.push('needle-in-haystack');
  return `${words.join(' ')} #${i}`;
}

const deployment = await benchDeployment();
const { config, runtime, url } = deployment;
try {
  const token = (await post(url, '/applications', { name: 'bench' })).body.token as string;
  await post(url, `/applications/${token}/chats`, {});
  const em = runtime.orm!.em.fork();
  const conn = em.getConnection();
  const [chat] = (await conn.execute('SELECT c.id FROM chats c JOIN applications a ON a.id = c.application_id WHERE a.token = ? AND c.number = 1', [token], 'all')) as { id: number }[];
  const t0 = performance.now();
  const now = new Date();
  for (let i = 0; i < MESSAGES; i += 5000) {
    const rows: unknown[] = [];
    const count = Math.min(5000, MESSAGES - i);
    for (let k = 1; k <= count; k++) rows.push(chat!.id, i + k, body(i + k), randomBytes(16).toString('hex'), 1, now, now);
    await conn.execute(`INSERT INTO messages (chat_id, number, body, command_id, version, created_at, updated_at) VALUES ${new Array(count).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`, rows, 'run');
  }
  await conn.execute('UPDATE chats SET messages_count = ? WHERE id = ?', [MESSAGES, chat!.id], 'run');
  console.log(`inserted ${MESSAGES} messages into MySQL in ${Math.round(performance.now() - t0)} ms`);

  const engine = SearchEngine.fromConfig(config);
  const t1 = performance.now();
  const result = await reindex({
    engine, index: indexNames(config.namespace), indexOptions: { shards: config.searchShards, replicas: config.searchReplicas },
    orm: runtime.orm!, nc: runtime.nc!, names: names(config.namespace), batchSize: 5000,
  });
  const indexMs = performance.now() - t1;
  console.log(`bulk-indexed ${result.documents} documents in ${Math.round(indexMs)} ms (${Math.round(result.documents / (indexMs / 1000))} docs/s) on ${JSON.stringify(await engine.detect())}`);
  await engine.close();

  const shapes: Array<[string, string]> = [
    ['1 char, matches ~all', 'e'],
    ['3 chars, common word', 'the'],
    ['word, case-folded', 'HELLO'],
    ['non-ASCII', 'straße'],
    ['rare (10 hits)', 'needle-in-haystack'],
    ['absent', 'zzzz-no-such-text'],
    ['20 chars, phrase', body(4242).slice(3, 23)],
    ['query syntax chars', '*?"\\(:)'],
    ['1 char, page after 90000', 'e&after=90000'],
    ['1 char, limit 1000', 'o&limit=1000'],
  ];
  console.log(`\nsearch latency over HTTP, chat of ${MESSAGES} messages, ${RUNS} runs each (ms):`);
  for (const [name, q] of shapes) {
    const [query, ...rest] = q.split('&');
    const path = `/applications/${token}/chats/1/messages/search?query=${encodeURIComponent(query!)}${rest.length ? `&${rest.join('&')}` : ''}`;
    const samples: number[] = [];
    let hits = 0;
    for (let r = 0; r < RUNS + 10; r++) {
      const s = performance.now();
      const res = await fetch(url + path);
      const json = (await res.json()) as unknown[];
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${JSON.stringify(json)}`);
      if (r >= 10) samples.push(performance.now() - s); // 10 warm-up runs
      hits = json.length;
    }
    console.log(`${name.padEnd(28)} hits/page ${String(hits).padStart(4)}  ${JSON.stringify(percentiles(samples))}`);
  }
} finally {
  await deployment.drop();
}
