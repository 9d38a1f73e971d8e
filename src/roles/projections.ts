import type { Metrics } from '../observability/metrics.js';
import { startProjections, type Projections } from '../projections/index.js';
import type { RoleDeps } from '../role-deps.js';
import type { Stoppable } from '../shutdown.js';

/** The `projections` role: search indexer, counters and reconciler, with their metrics. Shutdown: drain (apply or hand back what is buffered). */
export class ProjectionsRole implements Stoppable {
  private constructor(readonly projections: Projections) {}

  static async start(deps: RoleDeps, metrics: Metrics): Promise<ProjectionsRole> {
    const projections = await startProjections({ ...deps, counters: (projection) => metrics.projectionCounters(projection) });
    metrics.bindProjections(() => 2); // search-indexer and counters
    return new ProjectionsRole(projections);
  }

  async drain(): Promise<void> {
    await this.projections.stop();
  }
}
