import { ActorSystem } from '../actors/actor-system.js';
import type { Metrics } from '../observability/metrics.js';
import type { RoleDeps } from '../role-deps.js';
import type { Stoppable } from '../shutdown.js';

/** The `actors` role: the ActorSystem, its counters and gauges. Shutdown: drain (hand partitions back, finish the writes in flight). */
export class ActorsRole implements Stoppable {
  private constructor(readonly system: ActorSystem) {}

  static async start(deps: RoleDeps, metrics: Metrics): Promise<ActorsRole> {
    const system = await ActorSystem.start({ ...deps, counters: metrics.actorCounters() });
    metrics.bindActors({
      ownedPartitions: () => system.ownedPartitions.length,
      stalledPartitions: () => system.stalledPartitions.length,
      liveActors: () => system.liveActors,
      unsettledCommands: () => system.stats.unsettled,
    });
    return new ActorsRole(system);
  }

  async drain(): Promise<void> {
    await this.system.stop();
  }
}
