import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { indexNames } from '../../src/search/index-definition.js';
import { SEARCH_URL, uniqueName } from './env.js';

export { dropSearchIndices } from './env.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../deploy/opensearch-local/opensearch-local.sh', import.meta.url));

async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Makes sure the shared search engine (TEST_ELASTICSEARCH_URL, default the local OpenSearch on 9200) answers.
 * CI starts it before the tests; locally the first search test starts deploy/opensearch-local and leaves it
 * running for the next ones (it is shared, like MariaDB and NATS).
 */
export async function ensureSearchEngine(): Promise<string> {
  if (await reachable(SEARCH_URL)) return SEARCH_URL;
  const port = new URL(SEARCH_URL).port || '9200';
  await run(SCRIPT, ['start'], { env: { ...process.env, OPENSEARCH_PORT: port }, timeout: 180_000 });
  return SEARCH_URL;
}

export interface PrivateEngine {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A search engine node of the test's own (port, data dir), for tests that stop and restart it. Takes the
 * first of `preferredPort`..+9 whose HTTP and transport (+100) ports are free, so it never reuses a node
 * that another run left behind.
 */
export async function startPrivateEngine(t: TestContext, preferredPort: number): Promise<PrivateEngine> {
  let port = preferredPort;
  while ((await listening(port)) || (await listening(port + 100))) {
    if (++port >= preferredPort + 10) throw new Error(`no free port for a private search engine in ${preferredPort}..${preferredPort + 9}`);
  }
  const dir = join(tmpdir(), uniqueName(`opensearch-${port}-`));
  const env = { ...process.env, OPENSEARCH_PORT: String(port), OPENSEARCH_LOCAL_DIR: dir };
  const engine: PrivateEngine = {
    url: `http://127.0.0.1:${port}`,
    port,
    start: async () => {
      try {
        await run(SCRIPT, ['start'], { env, timeout: 180_000 });
      } catch (err) {
        const log = await readFile(join(dir, 'opensearch.log'), 'utf8').catch(() => '');
        const causes = log.split('\n').filter((l) => /\b(ERROR|FATAL)\b|Caused by|Exception:/.test(l)).slice(-15).join('\n');
        throw new Error(`${(err as Error).message}\n--- node log (errors) ---\n${causes}`);
      }
    },
    stop: async () => {
      await run(SCRIPT, ['stop'], { env, timeout: 60_000 });
    },
  };
  t.after(async () => {
    await engine.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  await engine.start();
  return engine;
}

export interface StoredDoc {
  id: string;
  version: number;
  number: number;
  chat: string;
  body: string;
  updated_at: string;
}

/** Every message document of a namespace (through the alias), sorted by chat and number. */
export async function storedDocuments(namespace: string, url = SEARCH_URL): Promise<StoredDoc[]> {
  const { alias } = indexNames(namespace);
  await fetch(`${url}/${alias}/_refresh`, { method: 'POST' });
  const out: StoredDoc[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const res = await fetch(`${url}/${alias}/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ size: 5000, version: true, sort: [{ chat: 'asc' }, { number: 'asc' }], ...(after ? { search_after: after } : {}) }),
    });
    if (!res.ok) throw new Error(`search failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { hits: { hits: Array<{ _id: string; _version: number; _source: StoredDoc; sort: unknown[] }> } };
    const hits = body.hits.hits;
    for (const h of hits) out.push({ id: h._id, version: h._version, number: h._source.number, chat: h._source.chat, body: h._source.body, updated_at: h._source.updated_at });
    if (hits.length < 5000) return out;
    after = hits[hits.length - 1]!.sort;
  }
}
