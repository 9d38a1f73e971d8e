import type { FastifyInstance } from 'fastify';
import type { NatsConnection, Service } from 'nats';
import type { Config } from '../config.js';
import { UnavailableError } from '../domain/errors.js';
import { Operator } from '../domain/operator.js';
import { ChatService } from '../gateway/chat-service.js';
import { WriteGate } from '../gateway/write-gate.js';
import { buildApp, trustProxyOption } from '../http/app.js';
import type { ReadinessCheck } from '../http/routes/health.js';
import { LiveHub } from '../live/live-hub.js';
import { LiveQueries } from '../live/live-queries.js';
import type { Logger } from '../log.js';
import { CommandBus } from '../messaging/command-bus.js';
import { IdempotencyStore } from '../messaging/idempotency-store.js';
import { startNatsApi } from '../nats-api/service.js';
import type { Metrics } from '../observability/metrics.js';
import type { Names } from '../protocol/subjects.js';
import { SearchEngine } from '../search/engine.js';
import { indexNames } from '../search/index-definition.js';
import { MessageSearch } from '../search/message-search.js';
import type { Stoppable } from '../shutdown.js';
import type { ResourceCache } from '../storage/cache.js';
import type { Orm } from '../storage/orm.js';
import type { Queries } from '../storage/queries.js';
import { untilReachable } from './retry.js';

/**
 * The `api` role: the HTTP app (with the live streams) and the NATS micro service over one ChatService. The HTTP
 * listener comes up first (`start`) and answers 503 on every route until `attach` has the dependencies.
 * Shutdown: intake ends the live streams first (their clients reconnect to another process), closes the
 * listener (in-flight requests finish) and stops the NATS service; drain
 * settles the commands still awaiting a reply (CommandBus.close); close closes the search client.
 */
export class ApiRole implements Stoppable {
  url?: string;
  private service?: ChatService;
  private bus?: CommandBus;
  private natsApi?: Service;
  private search?: SearchEngine;
  private live?: LiveHub;
  private writeGate?: WriteGate;

  private constructor(
    readonly app: FastifyInstance,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  static async start(config: Config, log: Logger, deps: { metrics: Metrics; cache: ResourceCache; ready: ReadinessCheck; listen: boolean }): Promise<ApiRole> {
    const started: { role?: ApiRole } = {};
    const app = await buildApp({
      service: () => {
        const service = started.role?.service;
        if (!service) throw UnavailableError.dependency('the service (still starting)');
        return service;
      },
      log: log.child({ role: 'api' }),
      ready: deps.ready,
      bodyLimit: config.bodyLimitBytes,
      pageMaxBytes: config.pageMaxBytes,
      metrics: deps.metrics,
      corsOrigins: config.corsOrigins.split(',').map((o) => o.trim()).filter(Boolean),
      trustProxy: trustProxyOption(config.trustProxy),
      ...(config.rateLimit === 'on' ? {
        rateLimit: {
          redis: deps.cache.client, namespace: config.namespace, windowMs: config.rateLimitWindowMs,
          perAddress: config.rateLimitPerAddress, perApplication: config.rateLimitPerApplication,
        },
      } : {}),
      live: {
        hub: () => {
          const live = started.role?.live;
          if (!live) throw UnavailableError.dependency('the service (still starting)');
          return live;
        },
        maxBufferBytes: config.liveMaxBufferBytes,
      },
    });
    deps.metrics.bindLive({ openStreams: () => started.role?.live?.openStreams ?? 0, watchedChats: () => started.role?.live?.watchedChats ?? 0 });
    const role = (started.role = new ApiRole(app, config, log));
    if (deps.listen) role.url = await app.listen({ port: config.port, host: config.host });
    return role;
  }

  /** Connects the service to its dependencies; from then on the routes answer. */
  async attach(deps: { nc: NatsConnection; names: Names; orm: Orm; queries: Queries; cache: ResourceCache; metrics: Metrics; partitions: number }, isStopping: () => boolean): Promise<void> {
    const { config, log } = this;
    const { nc, names } = deps;
    // the deployment's PARTITIONS (config.partitions may be 0: "the stored one")
    const bus = (this.bus = new CommandBus(nc, names, deps.partitions, config.commandTimeoutMs, log.child({ component: 'command-bus' })));
    bus.start();
    deps.metrics.bindCommandBus(() => bus.inFlight);
    const search = (this.search = SearchEngine.fromConfig(config));
    const idempotency = await untilReachable(
      'JetStream', log, () => IdempotencyStore.open(nc, names, { ttlSeconds: config.idempotencyTtlSeconds, replicas: config.natsReplicas }), isStopping,
    );
    const writeGate = (this.writeGate = new WriteGate({
      probe: () => deps.queries.ping(), intervalMs: config.writeGateProbeMs, log: log.child({ component: 'write-gate' }),
      onClose: () => bus.giveUpWaiting(),
    }));
    writeGate.start();
    deps.metrics.bindWriteGate(() => (writeGate.isOpen ? 1 : 0));
    const service = new ChatService({
      bus, queries: deps.queries, cache: deps.cache, idempotency,
      search: new MessageSearch(search, indexNames(config.namespace), config.searchConcurrencyPerApplication),
      operator: new Operator(config.adminApiKey, config.namespace), writeGate, commandTimeoutMs: config.commandTimeoutMs,
    });
    this.service = service;
    this.live = new LiveHub({
      nc, names, queries: new LiveQueries(deps.queries), log: log.child({ role: 'api', component: 'live' }),
      maxStreams: config.liveMaxStreams, maxStreamsPerApplication: config.liveMaxStreamsPerApplication, heartbeatMs: config.liveHeartbeatMs,
      counters: deps.metrics.liveCounters(),
    });
    this.natsApi = await startNatsApi(nc, names, service, log.child({ role: 'api', transport: 'nats' }), { pageMaxBytes: config.pageMaxBytes });
  }

  async intake(): Promise<void> {
    await this.live?.close();
    await this.app.close();
    await this.natsApi?.stop();
  }

  async drain(): Promise<void> {
    await this.bus?.close();
  }

  async close(): Promise<void> {
    this.writeGate?.stop();
    await this.search?.close();
  }
}
