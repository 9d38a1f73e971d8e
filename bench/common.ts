import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { connect } from 'nats';
import { loadConfig, type Config } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { names } from '../src/protocol/subjects.js';
import { startRuntime, type Runtime } from '../src/runtime.js';
import { indexNames } from '../src/search/index-definition.js';

/** A throw-away deployment (all roles, in process) in a fresh NAMESPACE and database, on the usual services. */
export async function benchDeployment(extra: Partial<Config> = {}): Promise<{ config: Config; runtime: Runtime; url: string; drop(): Promise<void> }> {
  const namespace = `bench${randomBytes(4).toString('hex')}`;
  const base = loadConfig(process.env);
  const server = new URL(base.databaseUrl);
  server.pathname = `/${namespace}`;
  const config = loadConfig(process.env, { namespace, databaseUrl: server.toString(), port: 0, host: '127.0.0.1', logLevel: process.env['LOG_LEVEL'] ?? 'warn', rateLimit: 'off', ...extra });
  const runtime = await startRuntime(config, createLogger(config.logLevel));
  return {
    config, runtime, url: runtime.url ?? '',
    drop: async () => {
      await runtime.stop();
      server.pathname = '/';
      const conn = await mysql.createConnection(server.toString());
      await conn.query(`DROP DATABASE IF EXISTS \`${namespace}\``).finally(() => conn.end());
      const nc = await connect({ servers: config.natsUrl.split(',') });
      const jsm = await nc.jetstreamManager();
      const n = names(namespace);
      for (const s of [n.commandsStream, n.eventsStream, `KV_${n.ownershipBucket}`, `KV_${n.topologyBucket}`]) await jsm.streams.delete(s).catch(() => undefined);
      await nc.close();
      const res = await fetch(`${config.elasticsearchUrl}/_cat/indices/${indexNames(namespace).pattern}?format=json&h=index`).catch(() => undefined);
      const indices = res?.ok ? ((await res.json()) as { index: string }[]).map((i) => i.index) : [];
      if (indices.length > 0) await fetch(`${config.elasticsearchUrl}/${indices.join(',')}`, { method: 'DELETE' });
    },
  };
}

export async function post(url: string, path: string, body: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- bench replies
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

export function percentiles(samples: number[]): { n: number; p50: number; p90: number; p99: number; max: number; mean: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
  const round = (x: number): number => Math.round(x * 10) / 10;
  return { n: s.length, p50: round(at(50)), p90: round(at(90)), p99: round(at(99)), max: round(s[s.length - 1] ?? NaN), mean: round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)) };
}
