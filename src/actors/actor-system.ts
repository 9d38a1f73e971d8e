import type { Logger } from '../log.js';
import type { RoleDeps } from '../role-deps.js';
import { EventPublisher } from '../messaging/event-publisher.js';
import { ownershipBucket } from '../messaging/topology.js';
import { Fences } from '../storage/fences.js';
import { maxAllowedPacket } from '../storage/orm.js';
import { Queries } from '../storage/queries.js';
import { GroupCommitter, type CommitterOptions } from './committer.js';
import { Completer } from './completer.js';
import { Ownership } from './ownership.js';
import { ActorBudget } from './region.js';
import { StateLoader } from './state-loader.js';
import { PartitionWorker, type WorkerDeps } from './partition-worker.js';

/** Prometheus counters the actors role increments (src/observability/metrics.ts `actorCounters`). */
type ActorCounters = NonNullable<CommitterOptions['counters']> & NonNullable<ActorBudget['counters']>;

export type ActorSystemDeps = RoleDeps & { counters?: ActorCounters };

/**
 * The `actors` role: takes part in partition ownership and runs a PartitionWorker for every partition
 * this process holds. Add processes to scale out; partitions rebalance on their own.
 */
export class ActorSystem {
  private readonly workers = new Map<number, PartitionWorker>();
  private readonly fences: Fences;
  private readonly ownership: Ownership;
  private readonly workerDeps: WorkerDeps;
  private readonly log: Logger;

  private constructor(
    private readonly deps: ActorSystemDeps,
    kv: Awaited<ReturnType<typeof ownershipBucket>>,
    maxPacket: number,
  ) {
    this.log = deps.log.child({ role: 'actors' });
    this.fences = new Fences(deps.orm);
    const queries = new Queries(deps.orm);
    this.workerDeps = {
      nc: deps.nc,
      names: deps.names,
      config: deps.config,
      log: this.log,
      orm: deps.orm,
      budget: new ActorBudget(deps.config.actorMaxActive, deps.counters),
      committer: new GroupCommitter(deps.orm, {
        batchMax: deps.config.commitBatchMax,
        batchBytes: Math.min(deps.config.commitBatchBytes, Math.floor(maxPacket / 4)),
        pipeline: deps.config.commitPipeline,
        counters: deps.counters,
      }),
      base: {
        queries,
        loader: new StateLoader(queries),
        completer: new Completer(deps.cache, new EventPublisher(deps.nc.jetstream(), deps.names, Math.floor((deps.nc.info?.max_payload ?? 1024 * 1024) / 2), deps.nc), this.log),
        cache: deps.cache,
      },
    };
    const { partitions, leaseTtlMs, partitionRestartBackoffMs, partitionRestartBackoffMaxMs } = deps.config;
    this.ownership = new Ownership(kv, deps.names, { partitions, ttlMs: leaseTtlMs, backoffMs: partitionRestartBackoffMs, backoffMaxMs: partitionRestartBackoffMaxMs }, {
      acquire: (p, crashed) => this.startWorker(p, crashed),
      release: (p, reason) => this.stopWorker(p, reason),
    }, this.log);
  }

  static async start(deps: ActorSystemDeps): Promise<ActorSystem> {
    const kv = await ownershipBucket(deps.nc, deps.names, { replicas: deps.config.natsReplicas, leaseTtlMs: deps.config.leaseTtlMs });
    const system = new ActorSystem(deps, kv, await maxAllowedPacket(deps.orm));
    await system.ownership.start();
    system.log.info({ member: system.ownership.memberId, partitions: system.ownership.owned.length }, 'actor system started');
    return system;
  }

  get memberId(): string {
    return this.ownership.memberId;
  }

  get ownedPartitions(): number[] {
    return this.ownership.owned;
  }

  /** Partitions this process holds the lease of but runs no worker for (starting, backing off, crashed). */
  get stalledPartitions(): number[] {
    return this.ownership.stalled;
  }

  /** Live actors over all partitions of this process. */
  get liveActors(): number {
    return this.workerDeps.budget.size;
  }

  get stats(): { activations: number; passivations: number; batches: number; writes: number; unsettled: number } {
    const total = { activations: 0, passivations: 0, batches: 0, writes: 0, unsettled: 0 };
    for (const w of this.workers.values()) {
      const s = w.stats;
      total.activations += s.activations;
      total.passivations += s.passivations;
      total.batches += s.batches;
      total.writes += s.writes;
      total.unsettled += s.unsettled;
    }
    return total;
  }

  private async startWorker(partition: number, crashed: () => void): Promise<void> {
    const epoch = await this.fences.advance(partition, this.ownership.memberId);
    const worker = new PartitionWorker(partition, epoch, this.workerDeps);
    worker.onCrash = () => {
      // a late crash of a worker already stopped or replaced (a batch still in flight) concerns nobody
      if (this.workers.get(partition) !== worker) return;
      this.workers.delete(partition);
      crashed();
    };
    try {
      await worker.start();
    } catch (err) {
      await worker.stop('lost').catch(() => undefined);
      throw err;
    }
    this.workers.set(partition, worker);
  }

  private async stopWorker(partition: number, reason: 'drain' | 'lost'): Promise<void> {
    const worker = this.workers.get(partition);
    if (!worker) return;
    this.workers.delete(partition);
    await worker.stop(reason);
  }

  async stop(): Promise<void> {
    await this.ownership.stop();
    await Promise.all([...this.workers.keys()].map((p) => this.stopWorker(p, 'drain')));
    this.log.info('actor system stopped');
  }
}
