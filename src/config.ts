/**
 * Every environment variable the service reads, with its default and meaning.
 * Nothing else in the code base reads `process.env`; the README table is checked against `settings`.
 */

export type Role = 'api' | 'actors' | 'projections';
const ALL_ROLES: readonly Role[] = ['api', 'actors', 'projections'];

type Kind = 'string' | 'int' | 'roles';

interface Setting {
  readonly env: string;
  readonly kind: Kind;
  readonly default: string;
  readonly description: string;
}

/** The catalogue: env name → default (as a string, the way it would be written in the environment) and meaning. */
export const settings = {
  roles: { env: 'ROLES', kind: 'roles', default: 'api,actors,projections', description: 'Comma list of roles this process runs: api, actors, projections.' },
  port: { env: 'PORT', kind: 'int', default: '3000', description: 'HTTP port of the api role.' },
  host: { env: 'HOST', kind: 'string', default: '0.0.0.0', description: 'HTTP bind address of the api role.' },
  databaseUrl: { env: 'DATABASE_URL', kind: 'string', default: 'mysql://root@127.0.0.1:3306/chat', description: 'MySQL 8 / MariaDB 10.11+ URL; the database is created and migrated on start.' },
  databasePoolSize: { env: 'DATABASE_POOL_SIZE', kind: 'int', default: '20', description: 'Maximum MySQL connections per process.' },
  natsUrl: { env: 'NATS_URL', kind: 'string', default: 'nats://127.0.0.1:4222', description: 'NATS server(s) with JetStream, comma separated for a cluster.' },
  natsUser: { env: 'NATS_USER', kind: 'string', default: '', description: 'NATS user name (with NATS_PASSWORD); empty: no user/password authentication.' },
  natsPassword: { env: 'NATS_PASSWORD', kind: 'string', default: '', description: 'Password of NATS_USER.' },
  natsToken: { env: 'NATS_TOKEN', kind: 'string', default: '', description: 'NATS authentication token (instead of a user).' },
  natsNkeySeedFile: { env: 'NATS_NKEY_SEED_FILE', kind: 'string', default: '', description: 'File holding an NKEY user seed (SU…) to authenticate to NATS with.' },
  natsCredsFile: { env: 'NATS_CREDS_FILE', kind: 'string', default: '', description: 'NATS credentials file (user JWT + NKEY seed, decentralized auth).' },
  natsReplicas: { env: 'NATS_REPLICAS', kind: 'int', default: '1', description: 'Replicas of every JetStream stream and KV bucket the service creates (3 on a 3-node cluster).' },
  redisUrl: { env: 'REDIS_URL', kind: 'string', default: 'redis://127.0.0.1:6379', description: 'Redis for the read cache; the service keeps working from MySQL when Redis is down.' },
  elasticsearchUrl: { env: 'ELASTICSEARCH_URL', kind: 'string', default: 'http://127.0.0.1:9200', description: 'Elasticsearch 8/9 or OpenSearch 2.x for message search.' },
  namespace: { env: 'NAMESPACE', kind: 'string', default: 'chat', description: 'Prefix of every NATS stream, consumer, KV bucket and subject, Redis key and search index ([A-Za-z0-9_-]).' },
  adminApiKey: { env: 'ADMIN_API_KEY', kind: 'string', default: '', description: 'Operator credential (Authorization: Bearer …) for listing every application (GET /applications, applications.list); empty: the listing answers 403.' },
  idempotencyTtlSeconds: { env: 'IDEMPOTENCY_TTL_SECONDS', kind: 'int', default: '86400', description: 'How long an Idempotency-Key, the request it is bound to and its outcome are remembered; the API promises at least 24 h (86400).' },
  logLevel: { env: 'LOG_LEVEL', kind: 'string', default: 'info', description: 'pino level: fatal, error, warn, info, debug, trace.' },
  partitions: { env: 'PARTITIONS', kind: 'int', default: '0', description: 'Number of command partitions, fixed for the life of a deployment (it decides routing; at most PARTITIONS actors processes are useful). 0: the number the deployment was set up with, or 16 for a new one. Each partition costs nats-server CPU per command (NATS 2.9 serves every partition\'s consumer by scanning the one commands stream): 64 partitions cost 0.03–0.06 ms more per message spread over many chats than 16 (measured).' },
  commandTimeoutMs: { env: 'COMMAND_TIMEOUT_MS', kind: 'int', default: '5000', description: 'How long a write request waits for its actor before answering 503 with Retry-After.' },
  writeGateProbeMs: { env: 'WRITE_GATE_PROBE_MS', kind: 'int', default: '500', description: 'How often the api role probes MySQL (SELECT 1); once a probe fails, new writes answer 503 `unavailable` at once (not sent) and writes already waiting answer 503 `timeout` at once, instead of each waiting COMMAND_TIMEOUT_MS. 0: no probe, writes always wait for their actor.' },
  commandAckWaitMs: { env: 'COMMAND_ACK_WAIT_MS', kind: 'int', default: '30000', description: 'JetStream ack wait of command consumers: an unacknowledged command is redelivered after it.' },
  leaseTtlMs: { env: 'LEASE_TTL_MS', kind: 'int', default: '10000', description: 'Partition lease and membership time-to-live; a dead actor process loses its partitions after it.' },
  partitionRestartBackoffMs: { env: 'PARTITION_RESTART_BACKOFF_MS', kind: 'int', default: '250', description: 'First delay before a partition whose worker could not start or crashed (MySQL down, failed commit) is started again; doubles at each failure, with jitter.' },
  partitionRestartBackoffMaxMs: { env: 'PARTITION_RESTART_BACKOFF_MAX_MS', kind: 'int', default: '5000', description: 'Longest delay between two restarts of a stalled partition (cap of the exponential backoff).' },
  actorIdleMs: { env: 'ACTOR_IDLE_MS', kind: 'int', default: '60000', description: 'An actor idle this long is passivated (its memory freed; it reloads on its next command).' },
  actorMaxActive: { env: 'ACTOR_MAX_ACTIVE', kind: 'int', default: '20000', description: 'Upper bound of live actors per actors process (over all its partitions); the least recently used idle ones are passivated beyond it.' },
  mailboxCapacity: { env: 'MAILBOX_CAPACITY', kind: 'int', default: '1024', description: 'Commands in flight per partition worker (mailboxes plus uncommitted writes) before it stops pulling: backpressure.' },
  commitBatchMax: { env: 'COMMIT_BATCH_MAX', kind: 'int', default: '500', description: 'Most writes in one MySQL transaction (group commit across the partitions of a process).' },
  commitBatchBytes: { env: 'COMMIT_BATCH_BYTES', kind: 'int', default: '4194304', description: 'Most bytes of written text in one MySQL transaction; lowered to a quarter of the server\'s max_allowed_packet when that is smaller.' },
  commitPipeline: { env: 'COMMIT_PIPELINE', kind: 'int', default: '1', description: 'MySQL transactions of the group committer in flight at once (each over different partitions); beyond the first, one starts only when 16 writes wait. One gathers the most writes per transaction: a median 7–17% less CPU per message spread over many chats than two, the same hot (bench/HISTORY.md).' },
  cacheTtlSeconds: { env: 'CACHE_TTL_SECONDS', kind: 'int', default: '5', description: 'Time-to-live of resources cached in Redis; bounds how stale a cached counter can be (writes overwrite the cache at once).' },
  shutdownTimeoutMs: { env: 'SHUTDOWN_TIMEOUT_MS', kind: 'int', default: '15000', description: 'Graceful shutdown budget; work still in flight after it is handed back to JetStream for redelivery.' },
  bodyLimitBytes: { env: 'BODY_LIMIT_BYTES', kind: 'int', default: '1048576', description: 'Largest accepted HTTP request body (413 above).' },
  searchEngine: { env: 'SEARCH_ENGINE', kind: 'string', default: 'auto', description: 'Search engine at ELASTICSEARCH_URL: auto (detected), elasticsearch or opensearch.' },
  searchTimeoutMs: { env: 'SEARCH_TIMEOUT_MS', kind: 'int', default: '3000', description: 'Timeout of one search request; past it the search answers 503 with Retry-After.' },
  searchShards: { env: 'SEARCH_SHARDS', kind: 'int', default: '1', description: 'Primary shards of a new message index (documents are routed by chat).' },
  searchReplicas: { env: 'SEARCH_REPLICAS', kind: 'int', default: '0', description: 'Replicas of a new message index (1 or more on a multi-node cluster).' },
  searchRefreshMs: { env: 'SEARCH_REFRESH_MS', kind: 'int', default: '500', description: 'How often the message index makes new documents searchable (its refresh interval, applied to the live index at every start): most of the time from a 201 to searchable. Higher: less of the engine\'s CPU per message.' },
  indexerBatchMax: { env: 'INDEXER_BATCH_MAX', kind: 'int', default: '500', description: 'Most message events the search indexer writes in one bulk request.' },
  indexerFlushMs: { env: 'INDEXER_FLUSH_MS', kind: 'int', default: '100', description: 'Longest time the search indexer holds an event before writing its batch.' },
  countersFlushMs: { env: 'COUNTERS_FLUSH_MS', kind: 'int', default: '250', description: 'Longest time the counters projection holds an event before updating chats_count / messages_count.' },
  reconcileIntervalMs: { env: 'RECONCILE_INTERVAL_MS', kind: 'int', default: '300000', description: 'Period of the counters reconciliation that recounts from the tables and repairs drift (0 = off).' },
  rateLimit: { env: 'RATE_LIMIT', kind: 'string', default: 'on', description: 'Rate limits of the HTTP API (per application token and per client address, counted in Redis and shared by every api process): on or off (benchmarks).' },
  rateLimitWindowMs: { env: 'RATE_LIMIT_WINDOW_MS', kind: 'int', default: '60000', description: 'Window of the rate limits; the RATE_LIMIT_PER_* budgets are per window.' },
  rateLimitPerAddress: { env: 'RATE_LIMIT_PER_ADDRESS', kind: 'int', default: '6000', description: 'Requests one client address may make per window (429 with Retry-After beyond).' },
  rateLimitPerApplication: { env: 'RATE_LIMIT_PER_APPLICATION', kind: 'int', default: '6000', description: 'Requests naming one application token may make per window, from any address (429 with Retry-After beyond).' },
  searchConcurrencyPerApplication: { env: 'SEARCH_CONCURRENCY_PER_APPLICATION', kind: 'int', default: '4', description: 'Searches of one application running at once in one api process; more answer 429 with Retry-After (one tenant cannot starve the others).' },
  pageMaxBytes: { env: 'PAGE_MAX_BYTES', kind: 'int', default: '1048576', description: 'Largest JSON body of a list or search page; a page stops early at it (at least one item) and links to the next.' },
  corsOrigins: { env: 'CORS_ORIGINS', kind: 'string', default: '', description: 'Comma list of origins allowed by CORS (e.g. https://app.example.com); empty = no cross-origin access.' },
  trustProxy: { env: 'TRUST_PROXY', kind: 'string', default: '', description: 'Proxies whose X-Forwarded-For is believed for the client address (rate limits, logs): empty = none, true = any, or a comma list of addresses/CIDRs (e.g. the load balancer).' },
  liveMaxStreams: { env: 'LIVE_MAX_STREAMS', kind: 'int', default: '1000', description: 'Live message streams (SSE) one api process serves at once; more answer 503 with Retry-After (clients reconnect to another process).' },
  liveMaxStreamsPerApplication: { env: 'LIVE_MAX_STREAMS_PER_APPLICATION', kind: 'int', default: '100', description: 'Live message streams of one application open at once on one api process; more answer 429 with Retry-After.' },
  liveHeartbeatMs: { env: 'LIVE_HEARTBEAT_MS', kind: 'int', default: '15000', description: 'Period of the heartbeat comment on live streams; a watched chat that heard nothing for that long is checked against MySQL (a lost last event).' },
  liveMaxBufferBytes: { env: 'LIVE_MAX_BUFFER_BYTES', kind: 'int', default: '1048576', description: 'Unsent bytes a live stream may hold for a client that does not read; past it the stream ends (the client resumes with Last-Event-ID).' },
  opsPort: { env: 'OPS_PORT', kind: 'int', default: '9464', description: 'Port (on HOST) of /health/live, /health/ready and /metrics for processes without the api role, which serves them on PORT (0 = off).' },
} as const satisfies Record<string, Setting>;

type Settings = typeof settings;
type ValueOf<K extends keyof Settings> = Settings[K]['kind'] extends 'int' ? number
  : Settings[K]['kind'] extends 'roles' ? readonly Role[]
  : string;

export type Config = { readonly [K in keyof Settings]: ValueOf<K> };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parse(key: string, setting: Setting, raw: string): unknown {
  switch (setting.kind) {
    case 'int': {
      if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${setting.env} must be a non-negative integer, got "${raw}"`);
      return Number(raw.trim());
    }
    case 'roles': {
      const roles = raw.split(',').map((r) => r.trim()).filter(Boolean);
      for (const role of roles) {
        if (!(ALL_ROLES as readonly string[]).includes(role)) throw new ConfigError(`${setting.env}: unknown role "${role}" (known: ${ALL_ROLES.join(', ')})`);
      }
      if (roles.length === 0) throw new ConfigError(`${setting.env} names no role`);
      return [...new Set(roles)];
    }
    case 'string':
      if (key === 'namespace' && !/^[A-Za-z0-9_-]{1,32}$/.test(raw)) throw new ConfigError(`${setting.env} must match [A-Za-z0-9_-]{1,32}, got "${raw}"`);
      return raw;
  }
}

/** Reads the environment once into a frozen, typed object. `overrides` (same keys) win over the environment. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings) as [string, Setting][]) {
    const raw = env[setting.env];
    out[key] = parse(key, setting, raw === undefined || raw === '' ? setting.default : raw);
  }
  const config = { ...out, ...overrides } as Config;
  if (config.partitions > 4096) throw new ConfigError('PARTITIONS must be between 0 (the deployment\'s) and 4096');
  if (!['auto', 'elasticsearch', 'opensearch'].includes(config.searchEngine)) throw new ConfigError(`SEARCH_ENGINE must be auto, elasticsearch or opensearch, got "${config.searchEngine}"`);
  if (config.commitBatchMax < 1 || config.commitPipeline < 1) throw new ConfigError('COMMIT_BATCH_MAX and COMMIT_PIPELINE must be at least 1');
  if (config.partitionRestartBackoffMs < 1 || config.partitionRestartBackoffMaxMs < config.partitionRestartBackoffMs) {
    throw new ConfigError('PARTITION_RESTART_BACKOFF_MS must be at least 1 and at most PARTITION_RESTART_BACKOFF_MAX_MS');
  }
  if (!['on', 'off'].includes(config.rateLimit)) throw new ConfigError(`RATE_LIMIT must be on or off, got "${config.rateLimit}"`);
  if (config.rateLimitWindowMs < 1) throw new ConfigError('RATE_LIMIT_WINDOW_MS must be at least 1');
  if (config.searchConcurrencyPerApplication < 1) throw new ConfigError('SEARCH_CONCURRENCY_PER_APPLICATION must be at least 1');
  if (config.pageMaxBytes < 1024) throw new ConfigError('PAGE_MAX_BYTES must be at least 1024');
  if (config.liveMaxStreams < 1 || config.liveMaxStreamsPerApplication < 1) throw new ConfigError('LIVE_MAX_STREAMS and LIVE_MAX_STREAMS_PER_APPLICATION must be at least 1');
  if (config.liveHeartbeatMs < 100) throw new ConfigError('LIVE_HEARTBEAT_MS must be at least 100');
  if (config.searchRefreshMs < 1) throw new ConfigError('SEARCH_REFRESH_MS must be at least 1');
  if (config.indexerBatchMax < 1) throw new ConfigError('INDEXER_BATCH_MAX must be at least 1');
  if (config.idempotencyTtlSeconds < 60) throw new ConfigError('IDEMPOTENCY_TTL_SECONDS must be at least 60 (the API promises at least 86400)');
  const natsAuth = [config.natsUser !== '', config.natsToken !== '', config.natsNkeySeedFile !== '', config.natsCredsFile !== ''].filter(Boolean).length;
  if (natsAuth > 1) throw new ConfigError('set only one NATS authentication: NATS_USER (+ NATS_PASSWORD), NATS_TOKEN, NATS_NKEY_SEED_FILE or NATS_CREDS_FILE');
  if (config.natsPassword !== '' && config.natsUser === '') throw new ConfigError('NATS_PASSWORD is set without NATS_USER');
  return Object.freeze(config);
}
