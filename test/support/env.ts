import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { connect } from 'nats';
import { loadConfig, type Config } from '../../src/config.js';
import { names } from '../../src/protocol/subjects.js';
import { indexNames } from '../../src/search/index-definition.js';

export const MYSQL_URL = process.env['TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306';
export const NATS_URL = process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const SEARCH_URL = process.env['TEST_ELASTICSEARCH_URL'] ?? 'http://127.0.0.1:9200';

/** The operator credential (ADMIN_API_KEY) of test deployments. */
export const TEST_ADMIN_KEY = 'test-operator-key-0123456789';
/** The header that carries it. */
export const operator = { authorization: `Bearer ${TEST_ADMIN_KEY}` } as const;

/** A fresh namespace and database per test: nothing is shared between tests or runs. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

/** Environment variables for a test deployment (also handed to child processes). */
export function testEnv(namespace: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NAMESPACE: namespace,
    DATABASE_URL: `${MYSQL_URL}/${namespace}`,
    NATS_URL,
    REDIS_URL,
    ELASTICSEARCH_URL: SEARCH_URL,
    PARTITIONS: '8',
    LEASE_TTL_MS: '6000',
    COMMAND_TIMEOUT_MS: '5000',
    PORT: '0',
    OPS_PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    // tests create many things from one address; the rate-limit tests turn it on
    RATE_LIMIT: 'off',
    ...extra,
  };
}

export function testConfig(namespace: string, extra: Record<string, string> = {}, overrides: Partial<Config> = {}): Config {
  return loadConfig(testEnv(namespace, extra), overrides);
}

/** Drops what a test deployment created: its database, streams, KV bucket and search indices. */
export async function dropDeployment(namespace: string): Promise<void> {
  const conn = await mysql.createConnection(MYSQL_URL);
  await conn.query(`DROP DATABASE IF EXISTS \`${namespace}\``).finally(() => conn.end());
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await nc.jetstreamManager();
    const n = names(namespace);
    for (const stream of [n.commandsStream, n.eventsStream, `KV_${n.ownershipBucket}`, `KV_${n.idempotencyBucket}`, `KV_${n.topologyBucket}`]) {
      await jsm.streams.delete(stream).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
  await dropSearchIndices(namespace);
}

/** Deletes the search indices of a namespace, by name (Elasticsearch refuses wildcard deletes by default). */
export async function dropSearchIndices(namespace: string, url = SEARCH_URL): Promise<void> {
  try {
    const res = await fetch(`${url}/_cat/indices/${indexNames(namespace).pattern}?format=json&h=index`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return;
    const indices = ((await res.json()) as { index: string }[]).map((i) => i.index);
    if (indices.length > 0) await fetch(`${url}/${indices.join(',')}`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
  } catch {
    // no engine running: nothing to drop
  }
}
