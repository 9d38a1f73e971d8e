/**
 * The search engine's CPU per indexed message under variants of the index settings and of the bulk order:
 *
 *   npx tsx bench/index-cost.ts [--messages 40000] [--rounds 3] [--batch 150]
 *
 * Each variant writes the same messages (bodies of 8–17 words, spread at random over 1,000 chats, numbered per
 * chat) into an index of its own made from the service's definition (index-definition.ts), in bulk requests of
 * `--batch` like the search indexer's, 20 ms apart; then waits 3 s for refreshes and merges, reads the engine's
 * CPU (from /proc, by the process listening on ELASTICSEARCH_URL's port) and deletes the index. Variants alternate
 * within each round, so the host's drift touches them alike; the medians are printed. Not a test: nothing asserts.
 */
import { parseArgs } from 'node:util';
import { indexedMessage, type IndexedMessage } from '../src/search/documents.js';
import { SearchEngine } from '../src/search/engine.js';
import { indexSettings, mappings } from '../src/search/index-definition.js';
import { bulkIndex } from '../src/search/index-writer.js';
import { processCpuMs } from './lib/cpu.js';
import { sleep } from './lib/processes.js';
import { alternateRounds, serverPid } from './lib/variants.js';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '40000' }, rounds: { type: 'string', default: '3' }, batch: { type: 'string', default: '150' } },
});
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const BATCH = Number(values.batch);
const url = process.env['ELASTICSEARCH_URL'] ?? 'http://127.0.0.1:9200';
const pid = serverPid(url, 9200, 'the search engine');

interface Variant {
  /** Writes batches in arrival order instead of the index order bulkIndex uses. */
  arrivalOrder?: boolean;
  settings: Record<string, unknown>;
}

const base = indexSettings({ shards: 1, replicas: 0, refreshMs: 500 });
const variants: Record<string, Variant> = {
  'index order, refresh 500 ms (the service)': { settings: base },
  'arrival order, refresh 500 ms': { arrivalOrder: true, settings: base },
  'index order, refresh 1 s': { settings: { ...base, refresh_interval: '1s' } },
};

const words = 'the quick brown fox jumps over a lazy dog while lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor'.split(' ');

/** The same messages for every variant of a round (a seeded generator). */
function messages(seed: number): IndexedMessage[] {
  let s = seed;
  const random = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const last = new Array<number>(1000).fill(0);
  const at = new Date().toISOString();
  return Array.from({ length: MESSAGES }, () => {
    const chat = Math.floor(random() * 1000);
    const body = Array.from({ length: 8 + Math.floor(random() * 10) }, () => words[Math.floor(random() * words.length)]).join(' ');
    return indexedMessage({ token: 'bench_index_cost_token', chat_number: chat + 1, number: ++last[chat]!, body, created_at: at, updated_at: at, version: 1 });
  });
}

const engine = SearchEngine.connect({ url, engine: 'auto', requestTimeoutMs: 60_000 });

async function measure(name: string, variant: Variant, round: number): Promise<number> {
  const index = `bench-index-cost-${process.pid}-${round}-${Object.keys(variants).indexOf(name)}`;
  await engine.client.indices.create({ index, settings: variant.settings, mappings });
  try {
    const docs = messages(round + 1);
    const before = processCpuMs(pid)!;
    for (let i = 0; i < docs.length; i += BATCH) {
      const batch = docs.slice(i, i + BATCH);
      if (variant.arrivalOrder) await bulkInArrivalOrder(index, batch);
      else await bulkIndex(engine, index, batch, { requireAlias: false, timeoutMs: 60_000 });
      await sleep(20);
    }
    await sleep(3000);
    const usPerMessage = ((processCpuMs(pid)! - before) * 1000) / docs.length;
    console.log(`round ${round + 1}: ${name}: ${usPerMessage.toFixed(1)} µs of the engine's CPU per message`);
    return usPerMessage;
  } finally {
    await engine.client.indices.delete({ index });
  }
}

/** What bulkIndex sends, without its sort. */
async function bulkInArrivalOrder(index: string, batch: readonly IndexedMessage[]): Promise<void> {
  const operations = batch.flatMap((m) => [{ index: { _index: index, _id: m.id, routing: m.routing, version: m.version, version_type: 'external' } }, m.doc]);
  const res = await engine.client.bulk({ operations }, { requestTimeout: 60_000 });
  if (res.errors) throw new Error('bulk request with errors');
}

await engine.detect();
console.log(`${MESSAGES} messages over 1,000 chats in batches of ${BATCH}, ${ROUNDS} rounds; engine pid ${pid}`);
await alternateRounds(ROUNDS, variants, measure, 'µs/message');
await engine.client.close();
