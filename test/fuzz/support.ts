import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertNoInternalIds } from '../support/expect.js';
import { call, waitFor, type Deployment } from '../support/harness.js';

/** Cases per property: small in the normal test run, `FUZZ_RUNS` (e.g. `npm run fuzz`) for a long one. */
export const RUNS = Number(process.env['FUZZ_RUNS'] ?? 0) || undefined;
export const runs = (normal: number): number => RUNS ?? normal;
/** Test timeout: bounded in the normal run, none for a long one. */
export const fuzzTimeout = RUNS === undefined ? 300_000 : Number.POSITIVE_INFINITY;
/** A fixed seed unless FUZZ_SEED is given, so a failure in CI can be replayed (fast-check prints the seed and path). */
export const fuzzParams = (normal: number): fc.Parameters<unknown> => ({
  numRuns: runs(normal),
  ...(process.env['FUZZ_SEED'] ? { seed: Number(process.env['FUZZ_SEED']) } : {}),
  includeErrorInReport: true,
});

/** Text that only the service's internals could have produced: stack frames, source paths, SQL driver errors. */
const INTERNAL = /\n\s+at [^\n]+:\d+:\d+|node_modules|\/src\/[a-z-]+\/[a-z-]+\.ts|sqlMessage|\bER_[A-Z_]{4,}|ECONNREFUSED/;

export function assertNoInternals(text: string, what: string): void {
  assert.ok(!INTERNAL.test(text), `${what}: internal text in ${text.slice(0, 300)}`);
}

/** An error body in the catalogue shape. */
export function assertErrorBody(json: unknown, what: string): void {
  const body = json as { error?: unknown; message?: unknown } | undefined;
  assert.equal(typeof body?.error, 'string', `${what}: error code in ${JSON.stringify(json)?.slice(0, 200)}`);
  assert.equal(typeof body?.message, 'string', `${what}: message in ${JSON.stringify(json)?.slice(0, 200)}`);
}

export function assertSuccessBody(json: unknown, what: string): void {
  assertNoInternalIds(json, what);
}

export interface Seed {
  /** The application whose data must survive the fuzzing unchanged (only read by the fuzzer). */
  seed: string;
  /** The application the fuzzer may write to. */
  play: string;
  snapshot(): Promise<string>;
}

/** Pre-existing data: an application with a chat and two messages (searchable), and a playground application. */
export async function seedData(d: Deployment): Promise<Seed> {
  const url = d.url;
  const seed = (await call(url, 'POST', '/applications', { name: 'seed app' })).body.token as string;
  const play = (await call(url, 'POST', '/applications', { name: 'playground' })).body.token as string;
  for (const token of [seed, play]) {
    assert.equal((await call(url, 'POST', `/applications/${token}/chats`, { name: 'seed chat' })).status, 201);
    assert.equal((await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: 'seed message one' })).status, 201);
    assert.equal((await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: 'seed message two' })).status, 201);
  }
  // searchable (the index exists and holds the messages) and counted, so that nothing moves during the run
  await waitFor('seed searchable', async () => (await call(url, 'GET', `/applications/${seed}/chats/1/messages/search?query=seed`)).body?.length === 2, 30_000);
  await waitFor('seed counted', async () => (await call(url, 'GET', `/applications/${seed}/chats/1`)).body?.messages_count === 2, 30_000);
  const snapshot = async (): Promise<string> => JSON.stringify(await Promise.all([
    `/applications/${seed}`, `/applications/${seed}/chats`, `/applications/${seed}/chats/1`,
    `/applications/${seed}/chats/1/messages`, `/applications/${seed}/chats/1/messages/1`, `/applications/${seed}/chats/1/messages/search?query=seed`,
  ].map(async (p) => {
    const res = await call(url, 'GET', p);
    return [p, res.status, res.body];
  })));
  return { seed, play, snapshot };
}

/** Strings a fuzzer should try: unicode (lone surrogates too), ASCII with control characters, numbers as text, injections. */
export const nastyString = (): fc.Arbitrary<string> => fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({ maxLength: 300 }),
  fc.constantFrom('', ' ', '0', '-1', '1e400', '1e300', '9007199254740993', '4294967296', 'NaN', 'null', 'true', '[]', '{}',
    '%', '%00', '%ZZ', '%ED%A0%80', '\\', '"', "'", '*', '?', '../..', '\u0000', '\ud800', 'a\udc00b', '😀', '\u202e', '<script>',
    "' OR 1=1 --", '${jndi:x}', '__proto__', 'constructor', 'x'.repeat(257), 'é'.repeat(70)),
);

/**
 * Numbers JSON can carry and JavaScript cannot hold exactly: in JSON text built with `toJsonText`, a string
 * `"#raw:1e400"` becomes the bare literal `1e400` (which JSON.stringify could never produce).
 */
export const rawNumberLiteral = (): fc.Arbitrary<string> => fc.oneof(
  fc.constantFrom('1e400', '-1e400', '1e300', '9007199254740993', '18446744073709551616', '1.0', '1e0', '-0', '0.0000001', '123456789012345678901234567890'),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 80n }).map(String),
).map((literal) => `#raw:${literal}`);

export const nastyNumber = (): fc.Arbitrary<unknown> => fc.oneof(
  fc.integer(), fc.nat(), fc.maxSafeInteger(), fc.double(),
  fc.constantFrom(0, -1, 1, 2, 1.5, 1e300, 2 ** 53, 2 ** 53 + 2, 4294967296, -0),
  rawNumberLiteral(), rawNumberLiteral(),
  fc.bigInt().map(String), nastyString(),
);

/** JSON text of a value, with `#raw:` strings written as bare number literals. */
export function toJsonText(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(/"#raw:([0-9eE.+-]+)"/g, '$1');
}
