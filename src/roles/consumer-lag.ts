import type { NatsConnection } from 'nats';
import { ConsumerLagProbe } from '../messaging/consumer-lag.js';
import type { ConsumerLagSample, Metrics } from '../observability/metrics.js';
import { COUNTERS } from '../projections/counters.js';
import { SEARCH_INDEXER } from '../projections/search-indexer.js';
import type { Names } from '../protocol/subjects.js';

/**
 * Binds the JetStream consumer lag gauges: the command consumers of the partitions this process owns (actors)
 * and the two EVENTS consumers (projections). One paged CONSUMER.LIST per stream, cached 5 s.
 */
export function bindConsumerLag(metrics: Metrics, nc: NatsConnection, names: Names, roles: { ownedPartitions?: () => readonly number[]; projections: boolean }): void {
  const probe = new ConsumerLagProbe(nc, 5000, () => metrics.consumerLagErrors.inc());
  const projected = roles.projections ? new Set([SEARCH_INDEXER, COUNTERS]) : new Set<string>();
  metrics.bindConsumerLag(async () => {
    const out: ConsumerLagSample[] = [];
    if (roles.ownedPartitions) {
      const owned = new Set(roles.ownedPartitions().map((p) => names.commandConsumer(p)));
      for (const c of await probe.read(names.commandsStream)) if (owned.has(c.consumer)) out.push({ kind: 'commands', ...c });
    }
    if (projected.size > 0) {
      for (const c of await probe.read(names.eventsStream)) if (projected.has(c.consumer)) out.push({ kind: 'projection', ...c });
    }
    return out;
  });
}
