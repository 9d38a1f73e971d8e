/**
 * `npm run bench:freshness [-- --messages 300 --background 20]`: how long after its 201 a message is
 * searchable (freshness) and counted in messages_count (counter lag), with default settings.
 * Messages are written one at a time while `background` concurrent writers load other chats; each is
 * probed every 10 ms (search through the HTTP API; the counter straight from MySQL, past the cache).
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { benchDeployment, percentiles, post } from './common.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = arg('messages', 300);
const BACKGROUND = arg('background', 20);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const deployment = await benchDeployment();
const { runtime, url } = deployment;
try {
  const token = (await post(url, '/applications', { name: 'fresh' })).body.token as string;
  for (let i = 0; i < 1 + BACKGROUND; i++) await post(url, `/applications/${token}/chats`, {});
  const conn = runtime.orm!.em.fork().getConnection();
  const [chat] = (await conn.execute('SELECT c.id FROM chats c JOIN applications a ON a.id = c.application_id WHERE a.token = ? AND c.number = 1', [token], 'all')) as { id: number }[];
  // wait for the index to exist
  for (;;) {
    const res = await fetch(`${url}/applications/${token}/chats/1/messages/search?query=x`);
    if (res.status === 200) break;
    await sleep(100);
  }

  let loading = true;
  let background = 0;
  const writers = Array.from({ length: BACKGROUND }, async (_, w) => {
    while (loading) {
      await post(url, `/applications/${token}/chats/${w + 2}/messages`, { body: `background load ${background++}` });
    }
  });

  const freshness: number[] = [];
  const counterLag: number[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const marker = `fresh${randomBytes(6).toString('hex')}`;
    const created = await post(url, `/applications/${token}/chats/1/messages`, { body: `probe ${marker}` });
    const t0 = performance.now();
    if (created.status !== 201) throw new Error(`create: ${created.status}`);
    const number = created.body.number as number;
    await Promise.all([
      (async () => {
        for (;;) {
          const res = await fetch(`${url}/applications/${token}/chats/1/messages/search?query=${marker}`);
          if (res.status === 200 && ((await res.json()) as unknown[]).length === 1) return freshness.push(performance.now() - t0);
          await sleep(10);
        }
      })(),
      (async () => {
        for (;;) {
          const [row] = (await conn.execute('SELECT messages_count FROM chats WHERE id = ?', [chat!.id], 'all')) as { messages_count: number }[];
          if (Number(row?.messages_count) >= number) return counterLag.push(performance.now() - t0);
          await sleep(10);
        }
      })(),
    ]);
  }
  loading = false;
  await Promise.all(writers);
  console.log(`${MESSAGES} probes, ${BACKGROUND} background writers (${background} background messages)`);
  console.log('freshness, 201 -> searchable (ms):', JSON.stringify(percentiles(freshness)));
  console.log('counter lag, 201 -> messages_count (ms):', JSON.stringify(percentiles(counterLag)));
} finally {
  await deployment.drop();
}
