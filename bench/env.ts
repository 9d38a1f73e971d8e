/**
 * The one place that decides the environment of every process the benchmarks start: the service's processes
 * (`node dist/main.js`) and the reference servers. Change a knob here and every scenario sees it.
 *
 * The shared servers come from the usual variables (DATABASE_URL's server part, NATS_URL, REDIS_URL,
 * ELASTICSEARCH_URL), with the service's defaults; each deployment gets its own NAMESPACE and database.
 */
export const SHARED = {
  mysql: serverUrl(process.env['DATABASE_URL'] ?? 'mysql://root@127.0.0.1:3306'),
  nats: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
  redis: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  search: process.env['ELASTICSEARCH_URL'] ?? 'http://127.0.0.1:9200',
};

/** `mysql://user@host:port/db` → `mysql://user@host:port` (each deployment names its own database). */
function serverUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '';
  return u.toString().replace(/\/$/, '');
}

/** Settings the benchmark always gives the service, on top of its defaults (production-like: 64 partitions). */
const SERVICE_ENV: Record<string, string> = {
  HOST: '127.0.0.1',
  // Fastify logs every request at info: that would measure the logger
  LOG_LEVEL: 'warn',
  // Measure the write path, not a limiter: off for every service process
  RATE_LIMIT: 'off',
  // the search scenario is one application's 32 connections: measure the engine path, not the per-application bound
  SEARCH_CONCURRENCY_PER_APPLICATION: '64',
};

/**
 * V8 heap cap of a process running the actors role, as docker-compose.yml and deploy/k8s start it (README,
 * "Passivation and backpressure"): its resident memory is about this plus ~100 MB.
 */
export const ACTORS_NODE_OPTIONS = '--max-old-space-size=192 --max-semi-space-size=16';

/** Environment of one service process of a deployment. */
export function serviceEnv(namespace: string, extra: Record<string, string>): Record<string, string> {
  return {
    NAMESPACE: namespace,
    DATABASE_URL: `${SHARED.mysql}/${namespace}`,
    NATS_URL: SHARED.nats,
    REDIS_URL: SHARED.redis,
    ELASTICSEARCH_URL: SHARED.search,
    ...SERVICE_ENV,
    ...extra,
  };
}

/** Environment of a reference server (bench/references/*): same MySQL and Redis, its own database. */
export function referenceEnv(namespace: string, port: number): Record<string, string> {
  return {
    NAMESPACE: namespace,
    DATABASE_URL: `${SHARED.mysql}/${namespace}`,
    REDIS_URL: SHARED.redis,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
}
