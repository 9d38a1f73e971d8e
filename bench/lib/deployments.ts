/**
 * The implementations under test, each started fresh in its own NAMESPACE / database on the shared servers:
 *
 *   service     the built service (`node dist/main.js`) as two processes: ROLES=api and ROLES=actors,projections
 *   service-1p  the built service as one process with every role
 *   lock        bench/references/lock.ts: one transaction per request, SELECT MAX(number) … FOR UPDATE
 *   incr        bench/references/incr.ts: number from Redis INCR, 201 at once, rows written later in batches
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { names } from '../../src/protocol/subjects.js';
import { indexNames } from '../../src/search/index-definition.js';
import { ACTORS_NODE_OPTIONS, referenceEnv, serviceEnv, SHARED } from '../env.js';
import { freePort, sleep, startNode, waitReady, type Child } from './processes.js';

export const IMPLS = ['service', 'service-1p', 'lock', 'incr'] as const;
export type Impl = (typeof IMPLS)[number];

export const IMPL_TITLES: Record<Impl, string> = {
  'service': 'service, api + actors/projections (2 processes)',
  'service-1p': 'service, one process (all roles)',
  'lock': 'lock-based reference (SELECT MAX … FOR UPDATE)',
  'incr': 'Redis-INCR reference (201 before persisting)',
};

export interface Deployment {
  impl: Impl;
  namespace: string;
  url: string;
  /** Its database, for fixtures and the invariant checks. */
  db: mysql.Pool;
  processes: Child[];
  /** Resolves once every acknowledged write is in MySQL (the INCR reference's flusher has drained). */
  settle(): Promise<void>;
  /** Environment of a service process of this deployment (for the reindex CLI); service only. */
  env?: Record<string, string>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** --cpu-prof directory for the service processes. */
  cpuProfDir?: string;
  /** --partitions: the service's PARTITIONS (its default when absent). */
  partitions?: number;
}

export async function startDeployment(impl: Impl, opts: StartOptions = {}): Promise<Deployment> {
  const namespace = `bench${randomBytes(4).toString('hex')}`;
  const processes: Child[] = [];
  let url: string;
  let env: Record<string, string> | undefined;
  try {
    if (impl === 'service' || impl === 'service-1p') {
      const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
      if (opts.cpuProfDir) mkdirSync(opts.cpuProfDir, { recursive: true });
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      const envOf = (extra: Record<string, string>): Record<string, string> =>
        serviceEnv(namespace, { ...extra, ...(opts.partitions !== undefined ? { PARTITIONS: String(opts.partitions) } : {}) });
      env = envOf({ PORT: String(port) });
      if (impl === 'service') {
        const ops = await freePort();
        const actors = startNode('actors,projections', 'dist/main.js', envOf({ ROLES: 'actors,projections', PORT: '0', OPS_PORT: String(ops), NODE_OPTIONS: ACTORS_NODE_OPTIONS }), nodeArgs);
        processes.push(actors);
        await waitReady(actors, `http://127.0.0.1:${ops}/health/ready`);
        const api = startNode('api', 'dist/main.js', envOf({ ROLES: 'api', PORT: String(port), OPS_PORT: '0' }), nodeArgs);
        processes.push(api);
        await waitReady(api, `${url}/health/ready`);
      } else {
        const all = startNode('api,actors,projections', 'dist/main.js', envOf({ ROLES: 'api,actors,projections', PORT: String(port), OPS_PORT: '0' }), nodeArgs);
        processes.push(all);
        await waitReady(all, `${url}/health/ready`);
      }
    } else {
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      const ref = startNode(`${impl} reference`, `bench/references/${impl}.ts`, referenceEnv(namespace, port), ['--import', 'tsx']);
      processes.push(ref);
      await waitReady(ref, `${url}/health`);
    }
  } catch (err) {
    await Promise.all(processes.map((p) => p.stop()));
    await dropNamespace(impl, namespace);
    throw err;
  }
  const db = mysql.createPool({ uri: `${SHARED.mysql}/${namespace}`, connectionLimit: 4 });
  return {
    impl, namespace, url, db, processes, ...(env ? { env } : {}),
    settle: async () => {
      if (impl !== 'incr') return;
      // requests cut off at the end of the window may still be queued: wait until the flusher is idle twice
      let idle = 0;
      for (let i = 0; i < 600 && idle < 2; i++) {
        const res = await fetch(`${url}/_bench/pending`);
        const { pending } = (await res.json()) as { pending: number };
        idle = pending === 0 ? idle + 1 : 0;
        await sleep(250);
      }
    },
    stop: async () => {
      await db.end();
      await Promise.all(processes.map((p) => p.stop()));
      await dropNamespace(impl, namespace);
    },
  };
}

/** Removes everything a deployment created: its database, and for the service its streams, KV bucket and indices. */
async function dropNamespace(impl: Impl, namespace: string): Promise<void> {
  const conn = await mysql.createConnection(SHARED.mysql);
  await conn.query(`DROP DATABASE IF EXISTS \`${namespace}\``).finally(() => conn.end());
  if (impl === 'incr') {
    const redis = new Redis(SHARED.redis, { lazyConnect: true });
    try {
      await redis.connect();
      for (let cursor = '0'; ;) {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
        if (cursor === '0') break;
      }
    } finally {
      redis.disconnect();
    }
  }
  if (impl !== 'service' && impl !== 'service-1p') return;
  const nc = await connect({ servers: SHARED.nats.split(',') });
  try {
    const jsm = await nc.jetstreamManager();
    const n = names(namespace);
    for (const stream of [n.commandsStream, n.eventsStream, `KV_${n.ownershipBucket}`, `KV_${n.idempotencyBucket}`, `KV_${n.topologyBucket}`]) await jsm.streams.delete(stream).catch(() => undefined);
  } finally {
    await nc.close();
  }
  try {
    const res = await fetch(`${SHARED.search}/_cat/indices/${indexNames(namespace).pattern}?format=json&h=index`, { signal: AbortSignal.timeout(5000) });
    const indices = res.ok ? ((await res.json()) as { index: string }[]).map((i) => i.index) : [];
    if (indices.length > 0) await fetch(`${SHARED.search}/${indices.join(',')}`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
  } catch {
    // no search engine: nothing to drop
  }
}
