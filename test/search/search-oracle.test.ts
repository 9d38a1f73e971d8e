import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, startDeployment, waitFor } from '../support/harness.js';
import { ensureSearchEngine, storedDocuments } from '../support/search-engine.js';

/** Deterministic PRNG (mulberry32) so a failure can be replayed with the same corpus. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  'hello', 'World', 'the', 'quick brown', 'FOX', 'jumps', 'over', 'lazy dog', 'Straße', 'STRASSE', 'İstanbul', 'ıi',
  'ΣΊΣΥΦΟΣ', 'σίσυφος', 'Привет', 'мир', '日本語', 'テスト', '😀', '👍🏽', 'café', 'CAFÉ', 'naïve', 'Ǆemal', 'ﬁne',
  '*', '?', '\\', '"', "'", '(', ')', '[', ']', '{', '}', '/', '~', ':', '^', '!', '+', '-', '&&', '||', 'AND', 'OR', 'NOT',
  '%', '_', '%_%', '<', '>', '=', '@', '#', '$', '.*', 'a*b', 'c?d', '\\*', 'x~2', 'f:o', '"phrase query"', '  ', '\t', '\n',
  '100%', 'snake_case', 'C:\\path\\to', 'https://example.com/?q=1&r=2', 'emoji😀x', 'ABC', 'abc', 'aBc', '0123456789',
  '\uFDD0', 'x\uFDD0\\y', '\\\\',
];

function randomBody(rand: () => number, marker: string): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < n; i++) parts.push(FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)]!);
  parts.splice(Math.floor(rand() * (parts.length + 1)), 0, marker);
  return parts.join(rand() < 0.5 ? ' ' : '');
}

function randomCase(rand: () => number, s: string): string {
  return Array.from(s).map((c) => (rand() < 0.5 ? c.toUpperCase() : c)).join('');
}

const oracle = (bodies: Map<number, string>, q: string): number[] =>
  [...bodies].filter(([, body]) => body.toLowerCase().includes(q.toLowerCase())).map(([n]) => n).sort((a, b) => a - b);

interface Hit { number: number; body: string }

/** Every page of a search, following `after`. */
async function searchAll(url: string, token: string, chat: number, q: string, limit: number): Promise<Hit[]> {
  const out: Hit[] = [];
  let after = 0;
  for (let page = 0; page < 1000; page++) {
    const res = await call(url, 'GET', `/applications/${token}/chats/${chat}/messages/search?query=${encodeURIComponent(q)}&limit=${limit}${after ? `&after=${after}` : ''}`);
    assert.equal(res.status, 200, `query ${JSON.stringify(q)}: ${JSON.stringify(res.body)}`);
    const hits = res.body as Hit[];
    out.push(...hits);
    const link = res.headers.get('link');
    if (!link) return out;
    assert.equal(hits.length, limit, 'a page with a next link is full');
    after = hits[hits.length - 1]!.number;
    assert.match(link, new RegExp(`after=${after}\\b`));
  }
  throw new Error('too many pages');
}

function queriesFor(rand: () => number, bodies: string[]): string[] {
  const queries = new Set<string>(['*', '?', '\\', '%', '_', '"', "'", 'AND', 'or', '(', ')', '[', ']', '{', '}', '/', '~', ':', '\\*', 'a*b', 'c?d',
    '*?', 'ß', 'STRASSE', 'straße', 'İ', 'i̇', 'ı', 'I', 'σ', 'Σ', 'ς', '😀', '👍', '🏽', ' ', '  ', '\t', '\n', 'Ǆ', 'ǆ', 'ﬁ', 'fi', 'é', 'e',
    'no such text anywhere', 'x'.repeat(20), '%_%', '100%', '_case', 'C:\\PATH', '\uFDD0', '\uFDD0\\', 'x\uFDD0', '\\\\']);
  while (queries.size < 160) {
    const body = Array.from(bodies[Math.floor(rand() * bodies.length)]!);
    const len = 1 + Math.floor(rand() * Math.min(20, body.length));
    const start = Math.floor(rand() * (body.length - len + 1));
    const q = body.slice(start, start + len).join('');
    queries.add(rand() < 0.4 ? randomCase(rand, q) : q);
  }
  return [...queries];
}

async function checkAgainstOracle(url: string, token: string, chat: number, bodies: Map<number, string>, queries: string[], rand: () => number): Promise<void> {
  for (let i = 0; i < queries.length; i += 8) {
    await Promise.all(queries.slice(i, i + 8).map(async (q) => {
      const limit = [3, 7, 50, 1000][Math.floor(rand() * 4)]!;
      const hits = await searchAll(url, token, chat, q, limit);
      const expected = oracle(bodies, q);
      assert.deepEqual(hits.map((h) => h.number), expected, `chat ${chat}, query ${JSON.stringify(q)} (limit ${limit})`);
      for (const h of hits) assert.equal(h.body, bodies.get(h.number), `body of message ${h.number}`);
    }));
  }
}

test('search matches the JS oracle: unicode, punctuation, query syntax, chat scoping, edits, pagination', { timeout: 300_000 }, async (t) => {
  await ensureSearchEngine();
  // eight searches of one application at a time: above the default per-application bound (4), which is
  // tested on its own (test/http/rate-limit.test.ts)
  const { url, namespace } = await startDeployment(t, { env: { INDEXER_FLUSH_MS: '50', SEARCH_CONCURRENCY_PER_APPLICATION: '8' } });
  const rand = prng(20240611);

  const token = (await call(url, 'POST', '/applications', { name: 'search' })).body.token as string;
  for (let i = 0; i < 2; i++) assert.equal((await call(url, 'POST', `/applications/${token}/chats`, {})).status, 201);
  const other = (await call(url, 'POST', '/applications', { name: 'other app' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${other}/chats`, {})).status, 201);

  // chat 1: 300 messages; chat 2 and the other application's chat 1: 60 each, same fragments
  const corpus: Record<string, Map<number, string>> = { [`${token}:1`]: new Map(), [`${token}:2`]: new Map(), [`${other}:1`]: new Map() };
  const plan = [...Array.from({ length: 300 }, () => [token, 1] as const), ...Array.from({ length: 60 }, () => [token, 2] as const), ...Array.from({ length: 60 }, () => [other, 1] as const)];
  for (let i = 0; i < plan.length; i += 20) {
    await Promise.all(plan.slice(i, i + 20).map(async ([tok, chat], j) => {
      const body = randomBody(rand, `#k${i + j}q`);
      const res = await call(url, 'POST', `/applications/${tok}/chats/${chat}/messages`, { body });
      assert.equal(res.status, 201);
      assert.equal(res.body.body, body);
      corpus[`${tok}:${chat}`]!.set(res.body.number as number, body);
    }));
  }

  const converged = async (): Promise<boolean> => {
    const docs = await storedDocuments(namespace);
    const total = Object.values(corpus).reduce((n, m) => n + m.size, 0);
    return docs.length === total && docs.every((d) => corpus[d.chat]?.get(d.number) === d.body);
  };
  await waitFor('every message indexed', converged, 30_000, 200);

  const main = corpus[`${token}:1`]!;
  const queries = queriesFor(rand, [...main.values()]);
  await checkAgainstOracle(url, token, 1, main, queries, rand);
  await checkAgainstOracle(url, token, 2, corpus[`${token}:2`]!, queries.slice(0, 60), rand);
  await checkAgainstOracle(url, other, 1, corpus[`${other}:1`]!, queries.slice(0, 60), rand);

  // edits: old text stops matching, new text matches
  const edited = [...main.keys()].filter((n) => n % 10 === 3);
  await Promise.all(edited.map(async (n) => {
    const body = randomBody(rand, `#e${n}q`);
    const res = await call(url, 'PUT', `/applications/${token}/chats/1/messages/${n}`, { body });
    assert.equal(res.status, 200);
    main.set(n, body);
  }));
  await waitFor('edits indexed', converged, 30_000, 200);
  for (const n of edited.slice(0, 10)) {
    const oldMarker = (await searchAll(url, token, 1, `#k`, 1000)).filter((h) => h.number === n);
    assert.equal(oldMarker.length, 0, `edited message ${n} no longer matches its old text`);
    assert.deepEqual((await searchAll(url, token, 1, `#E${n}Q`, 50)).map((h) => h.number), [n], `edited message ${n} matches its new text`);
  }
  await checkAgainstOracle(url, token, 1, main, queries, rand);
});

test('search: validation, 404s, literal treatment of every character', async (t) => {
  await ensureSearchEngine();
  const { url } = await startDeployment(t);
  const token = (await call(url, 'POST', '/applications', { name: 'v' })).body.token as string;
  await call(url, 'POST', `/applications/${token}/chats`, {});
  const base = `/applications/${token}/chats/1/messages/search`;
  // the projections create the index on start, in the background
  await waitFor('search index created', async () => (await call(url, 'GET', `${base}?query=x`)).status === 200);
  const cases: Array<[string, number]> = [
    [base, 400],
    [`${base}?query=`, 400],
    [`${base}?query=${'a'.repeat(257)}`, 400],
    [`${base}?query=a&limit=0`, 400],
    [`${base}?query=a&limit=1001`, 400],
    [`${base}?query=a&after=-1`, 400],
    [`/applications/${token}/chats/9/messages/search?query=a`, 404],
    [`/applications/nope/chats/1/messages/search?query=a`, 404],
    [`${base}?query=${encodeURIComponent('a'.repeat(256))}`, 200],
  ];
  for (const [path, status] of cases) {
    const res = await call(url, 'GET', path);
    assert.equal(res.status, status, `${path}: ${JSON.stringify(res.body)}`);
    if (status !== 200) assert.ok(res.body.error && res.body.message);
  }
  const nasty = ['*', '**', '?', '\\', '\\\\', '"', '/', '/.*/', '~1', 'a:b', '(', '[a-z]', '{1,2}', 'AND', 'a OR b', '&&', '||', '!', '^2', '<>', '%', '_', '\u0000', '\uffff', '\u{10ffff}', '#', '&'];
  for (const q of nasty) {
    const res = await call(url, 'GET', `${base}?query=${encodeURIComponent(q)}`);
    assert.equal(res.status, 200, `query ${JSON.stringify(q)}: ${JSON.stringify(res.body)}`);
    assert.deepEqual(res.body, []);
  }
});

test('search: repeated grams, the edges of a body and bodies of the longest length match exactly', { timeout: 120_000 }, async (t) => {
  await ensureSearchEngine();
  const { url, namespace } = await startDeployment(t, { env: { INDEXER_FLUSH_MS: '50' } });
  const token = (await call(url, 'POST', '/applications', { name: 'grams' })).body.token as string;
  await call(url, 'POST', `/applications/${token}/chats`, {});
  const longest = 'a'.repeat(16_384 - 5) + 'Zq#😀x'; // the body limit, in UTF-16 units; the match is at its very end
  const bodies = [
    'aaa', 'aaaa', 'aaaaa', 'abab', 'ababa', 'ba', 'b', 'xyz', 'x yz', 'yzx', 'İ', '😀😀', '😀a😀', 'a b c', 'abcabc',
    longest, `${'é'.repeat(5000)}MIDDLE${'é'.repeat(5000)}`, `start${'-'.repeat(9000)}`,
  ];
  const corpus = new Map<number, string>();
  for (const body of bodies) {
    const res = await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    corpus.set(res.body.number as number, body);
  }
  await waitFor('every message indexed', async () => (await storedDocuments(namespace)).length === bodies.length, 30_000, 200);
  const queries = ['a', 'aa', 'aaa', 'aaaa', 'aaaaa', 'aaaaaa', 'ab', 'aba', 'abab', 'ababab', 'bab', 'ba', 'b', 'yz', 'xyz', 'x y', 'zx',
    'i̇', 'İ', 'i', '😀', '😀😀', '😀a', 'a😀', '😀😀😀', 'zq#😀x', 'Q#😀', 'x', 'c', ' ', 'a b', 'b c', 'abca', 'cab', 'middle', 'éémid',
    'diddle', 'start-', 'start--', '--', 'rt-', longest.slice(-256), longest.slice(-256).toUpperCase(), 'é'.repeat(256)];
  for (const q of queries) {
    const hits = await searchAll(url, token, 1, q, 50);
    assert.deepEqual(hits.map((h) => h.number), oracle(corpus, q), `query ${JSON.stringify(q.length > 40 ? `${q.slice(0, 20)}…(${q.length})` : q)}`);
  }
});
