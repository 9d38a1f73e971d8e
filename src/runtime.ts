import type { FastifyInstance } from 'fastify';
import type { NatsConnection } from 'nats';
import type { ActorSystem } from './actors/actor-system.js';
import type { Config, Role } from './config.js';
import { serviceVersion } from './http/openapi.js';
import type { Logger } from './log.js';
import { Metrics } from './observability/metrics.js';
import type { Projections } from './projections/index.js';
import { names } from './protocol/subjects.js';
import { ActorsRole } from './roles/actors.js';
import { ApiRole } from './roles/api.js';
import { Clients } from './roles/clients.js';
import { bindConsumerLag } from './roles/consumer-lag.js';
import { OpsRole } from './roles/ops.js';
import { ProjectionsRole } from './roles/projections.js';
import { Shutdown } from './shutdown.js';
import { ResourceCache } from './storage/cache.js';
import { poolUsage } from './storage/pool.js';
import type { Orm } from './storage/orm.js';

/** A started process: whatever roles it runs, and how to stop it. */
export interface Runtime {
  readonly config: Config;
  readonly roles: readonly Role[];
  readonly app?: FastifyInstance;
  /** `http://host:port` of the api role once listening. */
  readonly url?: string;
  /** The ops listener (health + metrics) of a process without the api role, when OPS_PORT is not 0. */
  readonly ops?: FastifyInstance;
  /** `http://host:port` of the ops listener. */
  readonly opsUrl?: string;
  readonly metrics: Metrics;
  readonly actors?: ActorSystem;
  readonly projections?: Projections;
  readonly nc: NatsConnection;
  readonly orm: Orm;
  readonly shutdown: Shutdown;
  stop(): Promise<void>;
}

/**
 * Starts the roles of one process (src/roles/, one module each). The listener (api, or ops) comes up first
 * and answers 503 on /health/ready and on every route until MySQL is migrated and NATS is connected;
 * dependencies that are not reachable yet are retried with backoff instead of crashing the process.
 * Every role registers its shutdown steps as it starts; `Shutdown` runs them phase by phase (stop intake →
 * drain → close clients), whatever the start order. If starting fails, the clients opened so far are closed
 * (and, when the caller passed no `shutdown` of its own, everything started so far is stopped).
 */
export async function startRuntime(config: Config, log: Logger, opts: { listen?: boolean; shutdown?: Shutdown } = {}): Promise<Runtime> {
  const ns = names(config.namespace);
  const shutdown = opts.shutdown ?? new Shutdown(log);
  const listen = opts.listen !== false;
  const roles = config.roles;
  const metrics = new Metrics({ version: serviceVersion, roles, namespace: config.namespace });
  const clients = new Clients(config, ns, ResourceCache.connect(config.redisUrl, config.namespace, config.cacheTtlSeconds, log.child({ component: 'cache' })), log);
  shutdown.add('clients', clients);

  let started = false;
  let actors: ActorsRole | undefined;
  const ready = async (): Promise<Record<string, boolean>> => ({
    started,
    ...(await clients.check()),
    // actors: every partition this process owns has a running worker (none starting, backing off or crashed)
    ...(roles.includes('actors') ? { partitions: actors !== undefined && actors.system.stalledPartitions.length === 0 } : {}),
  });

  let api: ApiRole | undefined;
  let ops: OpsRole | undefined;
  if (roles.includes('api')) {
    api = await ApiRole.start(config, log, { metrics, cache: clients.cache, ready, listen });
    shutdown.add('api', api);
  } else if (config.opsPort > 0) {
    ops = await OpsRole.start(config, log, { metrics, ready, listen });
    shutdown.add('ops', ops);
  }

  let projections: ProjectionsRole | undefined;
  let deployed = config;
  const stopping = (): boolean => shutdown.started;
  try {
    const { orm, queries, nc, partitions } = await clients.start(stopping);
    // PARTITIONS=0 means the deployment's: from here on every role sees the number it was set up with
    deployed = Object.freeze({ ...config, partitions });
    metrics.bindDbPool(() => poolUsage(orm));
    const deps = { nc, orm, cache: clients.cache, names: ns, config: deployed, log };
    if (api) await api.attach({ ...deps, queries, metrics, partitions }, stopping);
    if (roles.includes('actors')) {
      actors = await ActorsRole.start(deps, metrics);
      shutdown.add('actors', actors);
    }
    if (roles.includes('projections')) {
      projections = await ProjectionsRole.start(deps, metrics);
      shutdown.add('projections', projections);
    }
    if (actors || projections) {
      const system = actors?.system;
      bindConsumerLag(metrics, nc, ns, { ...(system ? { ownedPartitions: () => system.ownedPartitions } : {}), projections: projections !== undefined });
    }
  } catch (err) {
    if (opts.shutdown) await clients.close();
    else await shutdown.run();
    throw err;
  }
  started = true;
  const runtime: Runtime = {
    config: deployed, roles, metrics, shutdown,
    app: api?.app, url: api?.url, ops: ops?.server, opsUrl: ops?.url,
    actors: actors?.system, projections: projections?.projections,
    nc: clients.nc!, orm: clients.orm!,
    stop: () => shutdown.run(),
  };
  log.info({ roles, url: runtime.url, ops: runtime.opsUrl, namespace: config.namespace }, 'started');
  return runtime;
}
