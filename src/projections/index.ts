import { periodicDuty } from '../messaging/topology.js';
import type { RoleDeps } from '../role-deps.js';
import { SearchEngine } from '../search/engine.js';
import { indexNames } from '../search/index-definition.js';
import { CounterReconciler } from './counter-reconciler.js';
import { COUNTERS, CountersProjection } from './counters.js';
import type { ProjectionCounters } from './runner.js';
import { SEARCH_INDEXER, SearchIndexer } from './search-indexer.js';

export type ProjectionDeps = RoleDeps & {
  /** The Prometheus counters of a projection, by its name (src/observability/metrics.ts `projectionCounters`). */
  counters?: (projection: string) => ProjectionCounters;
};

export interface Projections {
  readonly indexer: SearchIndexer;
  readonly counters: CountersProjection;
  readonly reconciler: CounterReconciler;
  stop(): Promise<void>;
}

/**
 * The `projections` role: durable consumers of the EVENTS stream that keep derived state — the search
 * index and the chats_count / messages_count columns — plus the periodic counters reconciliation.
 * Nothing here blocks on the search engine: while it is down the indexer retries in the background.
 */
export async function startProjections(deps: ProjectionDeps): Promise<Projections> {
  const log = deps.log.child({ role: 'projections' });
  const { config } = deps;
  const engine = SearchEngine.fromConfig(config);
  const indexer = new SearchIndexer(deps.nc, deps.names, engine, indexNames(config.namespace), config, log.child({ projection: SEARCH_INDEXER }), deps.counters?.(SEARCH_INDEXER));
  const counters = new CountersProjection(deps.nc, deps.names, deps.orm, config, log.child({ projection: COUNTERS }), deps.counters?.(COUNTERS));
  const reconciler = new CounterReconciler(
    deps.orm, config.reconcileIntervalMs, log.child({ component: 'counter-reconciler' }), undefined,
    periodicDuty(deps.nc, deps.names, 'counter-reconciliation', config.reconcileIntervalMs, config.natsReplicas),
  );
  await indexer.start();
  await counters.start();
  reconciler.start();
  log.info('projections started: search-indexer, counters');
  return {
    indexer, counters, reconciler,
    stop: async () => {
      await reconciler.stop();
      await Promise.all([indexer.stop(), counters.stop()]);
      await engine.close();
    },
  };
}
