import type { NatsConnection } from 'nats';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { closeNats, connectNats, natsAuthOf } from '../messaging/nats.js';
import { ensureTopology } from '../messaging/topology.js';
import type { Names } from '../protocol/subjects.js';
import type { Stoppable } from '../shutdown.js';
import type { ResourceCache } from '../storage/cache.js';
import { migrate, openOrm, type Orm } from '../storage/orm.js';
import { Queries } from '../storage/queries.js';
import { untilReachable } from './retry.js';

/**
 * The connections every role shares: MySQL (migrated first), NATS (with the JetStream topology) and Redis.
 * `start` waits for each dependency (retrying, see retry.ts); `close` (the last shutdown phase) closes
 * whatever was opened, once.
 */
export class Clients implements Stoppable {
  orm?: Orm;
  queries?: Queries;
  nc?: NatsConnection;
  private closed?: Promise<unknown>;

  constructor(
    private readonly config: Config,
    private readonly names: Names,
    readonly cache: ResourceCache,
    private readonly log: Logger,
  ) {}

  /** Resolves with the connections and the deployment's PARTITIONS (the stored value when PARTITIONS=0). */
  async start(isStopping: () => boolean): Promise<{ orm: Orm; queries: Queries; nc: NatsConnection; partitions: number }> {
    const { config, log } = this;
    await untilReachable('MySQL', log, () => migrate(config.databaseUrl, log), isStopping);
    const orm = (this.orm = await openOrm(config.databaseUrl, config.databasePoolSize, Math.max(5, Math.ceil(config.leaseTtlMs / 1000))));
    const queries = (this.queries = new Queries(orm));
    const nc = (this.nc = await untilReachable('NATS', log, () => connectNats(config.natsUrl, `chat-${config.roles.join('+')}`, log, natsAuthOf(config)), isStopping));
    const topology = { replicas: config.natsReplicas, leaseTtlMs: config.leaseTtlMs, partitions: config.partitions };
    const partitions = await untilReachable('JetStream', log, () => ensureTopology(nc, this.names, topology), isStopping);
    return { orm, queries, nc, partitions };
  }

  /** Readiness: MySQL answers and NATS is connected. */
  async check(): Promise<{ mysql: boolean; nats: boolean }> {
    return {
      mysql: this.queries ? await this.queries.ping() : false,
      nats: this.nc ? !this.nc.isClosed() && this.nc.info !== undefined : false,
    };
  }

  close(): Promise<unknown> {
    this.closed ??= Promise.allSettled([this.nc ? closeNats(this.nc) : undefined, this.orm?.close(), this.cache.close()]);
    return this.closed;
  }
}
