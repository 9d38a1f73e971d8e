import type { FastifyInstance } from 'fastify';
import type { NatsConnection, Service } from 'nats';
import { ActorSystem } from './actors/actor-system.js';
import type { Config, Role } from './config.js';
import { UnavailableError } from './domain/errors.js';
import { Operator } from './domain/operator.js';
import { ChatService } from './gateway/chat-service.js';
import { buildApp, trustProxyOption } from './http/app.js';
import { serviceVersion } from './http/openapi.js';
import { buildOpsServer } from './http/ops-server.js';
import type { Logger } from './log.js';
import { CommandBus } from './messaging/command-bus.js';
import { ConsumerLagProbe } from './messaging/consumer-lag.js';
import { IdempotencyStore } from './messaging/idempotency-store.js';
import { closeNats, connectNats, natsAuthOf } from './messaging/nats.js';
import { TopologyMismatchError, ensureTopology } from './messaging/topology.js';
import { startNatsApi } from './nats-api/service.js';
import { Metrics, type ConsumerLagSample } from './observability/metrics.js';
import { startProjections, type Projections } from './projections/index.js';
import { COUNTERS } from './projections/counters.js';
import { SEARCH_INDEXER } from './projections/search-indexer.js';
import { names } from './protocol/subjects.js';
import { SearchEngine } from './search/engine.js';
import { indexNames } from './search/index-definition.js';
import { MessageSearch } from './search/message-search.js';
import { Shutdown } from './shutdown.js';
import { ResourceCache } from './storage/cache.js';
import { migrate, openOrm, type Orm } from './storage/orm.js';
import { LiveHub } from './live/live-hub.js';
import { LiveQueries } from './live/live-queries.js';
import { registerLiveMetrics } from './live/live-metrics.js';
import { poolUsage } from './storage/pool.js';
import { Queries } from './storage/queries.js';

/** A started process: whatever roles it runs, and how to stop it. */
export interface Runtime {
  readonly config: Config;
  readonly roles: readonly Role[];
  readonly app?: FastifyInstance;
  /** `http://host:port` of the api role once listening. */
  url?: string;
  /** The ops listener (health + metrics) of a process without the api role, when OPS_PORT is not 0. */
  readonly ops?: FastifyInstance;
  /** `http://host:port` of the ops listener. */
  opsUrl?: string;
  readonly metrics: Metrics;
  actors?: ActorSystem;
  projections?: Projections;
  nc?: NatsConnection;
  orm?: Orm;
  readonly shutdown: Shutdown;
  stop(): Promise<void>;
}

async function retry<T>(what: string, log: Logger, attempt: () => Promise<T>, isStopping: () => boolean): Promise<T> {
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await attempt();
    } catch (err) {
      if (isStopping() || err instanceof TopologyMismatchError) throw err;
      log.warn({ err, retry_in_ms: delay }, `${what} not reachable yet`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * Starts the roles of one process. The HTTP listener (api role) comes up first and answers 503 on
 * /health/ready and on every route until MySQL is migrated and NATS is connected; dependencies that are
 * not reachable yet are retried with backoff instead of crashing the process.
 */
export async function startRuntime(config: Config, log: Logger, opts: { listen?: boolean; shutdown?: Shutdown } = {}): Promise<Runtime> {
  const ns = names(config.namespace);
  const shutdown = opts.shutdown ?? new Shutdown(log);
  let ready = false;
  let service: ChatService | undefined;
  let live: LiveHub | undefined;
  const deps: { queries?: Queries; nc?: NatsConnection } = {};
  const cache = ResourceCache.connect(config.redisUrl, config.namespace, config.cacheTtlSeconds, log.child({ component: 'cache' }));
  const roles = config.roles;
  const metrics = new Metrics({ version: serviceVersion, roles, namespace: config.namespace });

  const runtime: Runtime = {
    config, roles, shutdown, metrics,
    stop: async () => {
      await shutdown.run();
    },
  };

  const readiness = async (): Promise<Record<string, boolean>> => ({
    started: ready,
    mysql: deps.queries ? await deps.queries.ping() : false,
    nats: deps.nc ? !deps.nc.isClosed() && deps.nc.info !== undefined : false,
    // actors: every partition this process owns has a running worker (none starting, backing off or crashed)
    ...(roles.includes('actors') ? { partitions: runtime.actors !== undefined && runtime.actors.stalledPartitions.length === 0 } : {}),
  });

  let app: FastifyInstance | undefined;
  if (roles.includes('api')) {
    app = await buildApp({
      service: () => {
        if (!service) throw UnavailableError.dependency('the service (still starting)');
        return service;
      },
      log: log.child({ role: 'api' }),
      ready: readiness,
      bodyLimit: config.bodyLimitBytes,
      pageMaxBytes: config.pageMaxBytes,
      metrics,
      corsOrigins: config.corsOrigins.split(',').map((o) => o.trim()).filter(Boolean),
      trustProxy: trustProxyOption(config.trustProxy),
      ...(config.rateLimit === 'on' ? {
        rateLimit: {
          redis: cache.client, namespace: config.namespace, windowMs: config.rateLimitWindowMs,
          perAddress: config.rateLimitPerAddress, perApplication: config.rateLimitPerApplication,
        },
      } : {}),
      live: {
        hub: () => {
          if (!live) throw UnavailableError.dependency('the service (still starting)');
          return live;
        },
        maxBufferBytes: config.liveMaxBufferBytes,
      },
    });
    (runtime as { app?: FastifyInstance }).app = app;
    registerLiveMetrics(metrics.registry, () => live);
    // live streams end first: their clients reconnect to another process, and the HTTP server can close
    shutdown.add('live', async () => live?.close());
    shutdown.add('http', () => app!.close());
    if (opts.listen !== false) {
      runtime.url = await app.listen({ port: config.port, host: config.host });
    }
  } else if (config.opsPort > 0) {
    // no api role: health and metrics on their own small listener, up before the dependencies (live at once)
    const ops = await buildOpsServer({ log: log.child({ component: 'ops' }), ready: readiness, metrics });
    (runtime as { ops?: FastifyInstance }).ops = ops;
    shutdown.add('ops', () => ops.close());
    if (opts.listen !== false) runtime.opsUrl = await ops.listen({ port: config.opsPort, host: config.host });
  }

  // the connections are registered for shutdown once everything started: if starting fails (a dependency
  // refused, a topology mismatch), close what was opened so that nothing keeps the process alive
  try {
    await retry('MySQL', log, () => migrate(config.databaseUrl, log), () => shutdown.started);
    const orm = (runtime.orm = await openOrm(config.databaseUrl, config.databasePoolSize, Math.max(5, Math.ceil(config.leaseTtlMs / 1000))));
    const queries = (deps.queries = new Queries(orm));
    metrics.bindDbPool(() => poolUsage(orm));
    const nc = (runtime.nc = deps.nc = await retry('NATS', log, () => connectNats(config.natsUrl, `chat-${roles.join('+')}`, log, natsAuthOf(config)), () => shutdown.started));
    await retry('JetStream', log, () => ensureTopology(nc, ns, { replicas: config.natsReplicas, leaseTtlMs: config.leaseTtlMs, partitions: config.partitions }), () => shutdown.started);

    if (app) {
      const bus = new CommandBus(nc, ns, config.partitions, config.commandTimeoutMs, log.child({ component: 'command-bus' }));
      bus.start();
      metrics.bindCommandBus(() => bus.inFlight);
      const searchEngine = SearchEngine.fromConfig(config);
      const idempotency = await retry('JetStream', log, () => IdempotencyStore.open(nc, ns, { ttlSeconds: config.idempotencyTtlSeconds, replicas: config.natsReplicas }), () => shutdown.started);
      service = new ChatService({
        bus, queries, cache, search: new MessageSearch(searchEngine, indexNames(config.namespace), config.searchConcurrencyPerApplication), idempotency,
        operator: new Operator(config.adminApiKey, config.namespace), commandTimeoutMs: config.commandTimeoutMs,
      });
      live = new LiveHub({
        nc, names: ns, queries: new LiveQueries(orm), log: log.child({ role: 'api', component: 'live' }),
        maxStreams: config.liveMaxStreams, maxStreamsPerApplication: config.liveMaxStreamsPerApplication, heartbeatMs: config.liveHeartbeatMs,
      });
      shutdown.add('search', () => searchEngine.close());
      const natsApi: Service = await startNatsApi(nc, ns, service, log.child({ role: 'api', transport: 'nats' }), { pageMaxBytes: config.pageMaxBytes });
      shutdown.add('nats-api', () => natsApi.stop());
      shutdown.add('command-bus', () => bus.close());
    }
    if (roles.includes('actors')) {
      runtime.actors = await ActorSystem.start({ nc, orm, cache, names: ns, config, log });
      shutdown.add('actors', () => runtime.actors!.stop());
      const actors = runtime.actors;
      metrics.bindActors({
        ownedPartitions: () => actors.ownedPartitions.length,
        stalledPartitions: () => actors.stalledPartitions.length,
        partitions: () => actors.partitionStats,
      });
    }

    if (roles.includes('projections')) {
      runtime.projections = await startProjections({ nc, orm, cache, names: ns, config, log });
      shutdown.add('projections', () => runtime.projections!.stop());
      const { indexer, counters } = runtime.projections;
      metrics.bindProjections(() => [
        { projection: SEARCH_INDEXER, applied: indexer.runner.applied, failures: indexer.runner.failures },
        { projection: COUNTERS, applied: counters.runner.applied, failures: counters.runner.failures },
      ]);
    }
    if (runtime.actors || runtime.projections) {
      const probe = new ConsumerLagProbe(nc);
      const actors = runtime.actors;
      const projected = runtime.projections ? new Set([SEARCH_INDEXER, COUNTERS]) : new Set<string>();
      metrics.bindConsumerLag(async () => {
        const out: ConsumerLagSample[] = [];
        if (actors) {
          const owned = new Set(actors.ownedPartitions.map((p) => ns.commandConsumer(p)));
          for (const c of await probe.read(ns.commandsStream)) if (owned.has(c.consumer)) out.push({ kind: 'commands', ...c });
        }
        if (projected.size > 0) {
          for (const c of await probe.read(ns.eventsStream)) if (projected.has(c.consumer)) out.push({ kind: 'projection', ...c });
        }
        return out;
      });
    }
  } catch (err) {
    await Promise.allSettled([runtime.nc ? closeNats(runtime.nc) : undefined, runtime.orm?.close(), cache.close()]);
    throw err;
  }
  const nc = runtime.nc!;
  const orm = runtime.orm!;
  shutdown.add('nats', () => closeNats(nc));
  shutdown.add('mysql', () => orm.close());
  shutdown.add('redis', () => cache.close());
  ready = true;
  log.info({ roles, url: runtime.url, ops: runtime.opsUrl, namespace: config.namespace }, 'started');
  return runtime;
}
