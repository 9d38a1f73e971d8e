/**
 * Message creations per second through the HTTP API.
 *
 *   npm run bench:create                       # spawns api + actors processes in a fresh namespace
 *   BENCH_URL=http://localhost:3000 npm run bench:create    # against a running deployment
 *
 * Knobs: BENCH_MESSAGES (default 5000), BENCH_CONCURRENCY (64), BENCH_CHATS (16; 1 = one hot chat),
 * BENCH_APIS / BENCH_ACTORS (processes to spawn, default 1 each), BENCH_ACTOR_ROLES (default
 * `actors,projections`), BENCH_PROFILE=<dir> (CPU profile of the actor processes). Prints throughput and
 * latency percentiles.
 * A benchmark, not a test: it asserts nothing but that every request got its 201.
 */
import { dropDeployment, uniqueName } from '../test/support/env.js';
import { call } from '../test/support/harness.js';
import { spawnService, type ServiceProcess } from '../test/support/processes.js';

const env = process.env;
const messages = Number(env['BENCH_MESSAGES'] ?? 5000);
const concurrency = Number(env['BENCH_CONCURRENCY'] ?? 64);
const chats = Number(env['BENCH_CHATS'] ?? 16);

const procs: ServiceProcess[] = [];
const namespace = uniqueName('bench');
let urls: string[];
if (env['BENCH_URL']) {
  urls = [env['BENCH_URL']];
} else {
  for (let i = 0; i < Number(env['BENCH_ACTORS'] ?? 1); i++) procs.push(await spawnService(namespace, { ROLES: env['BENCH_ACTOR_ROLES'] ?? 'actors,projections' }, env['BENCH_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${env['BENCH_PROFILE']}`] : []));
  const apis: ServiceProcess[] = [];
  for (let i = 0; i < Number(env['BENCH_APIS'] ?? 1); i++) apis.push(await spawnService(namespace, { ROLES: 'api' }));
  procs.push(...apis);
  urls = apis.map((a) => a.url!);
}

try {
  const token = (await call(urls[0]!, 'POST', '/applications', { name: 'bench' })).body.token as string;
  for (let c = 0; c < chats; c++) await call(urls[0]!, 'POST', `/applications/${token}/chats`);
  // warm-up: activate the actors
  await Promise.all(Array.from({ length: chats }, (_, c) => call(urls[0]!, 'POST', `/applications/${token}/chats/${c + 1}/messages`, { body: 'warm-up' })));

  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = next++; i < messages; i = next++) {
      const t0 = performance.now();
      const res = await call(urls[worker % urls.length]!, 'POST', `/applications/${token}/chats/${(i % chats) + 1}/messages`, { body: `message ${i} of the benchmark` });
      latencies.push(performance.now() - t0);
      if (res.status !== 201) failed++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): string => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);
  console.log(JSON.stringify({
    messages, concurrency, chats, apis: urls.length, seconds: Number(seconds.toFixed(2)),
    per_second: Math.round(messages / seconds), p50_ms: pct(50), p95_ms: pct(95), p99_ms: pct(99), failed,
  }));
} finally {
  await Promise.all(procs.map((p) => p.stop()));
  if (!env['BENCH_URL']) await dropDeployment(namespace);
}
