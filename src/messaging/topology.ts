import {
  DiscardPolicy, RetentionPolicy, StorageType, nanos,
  type JetStreamManager, type KV, type NatsConnection, type StreamConfig,
} from 'nats';
import type { Names } from '../protocol/subjects.js';

export interface TopologyOptions {
  replicas: number;
  leaseTtlMs: number;
}

/**
 * The JetStream objects of one NAMESPACE:
 * - COMMANDS: work queue of commands, file storage, deduplicated by Nats-Msg-Id; a message leaves it when acked.
 * - EVENTS: domain events for projections, kept 7 days, deduplicated by event id.
 * - ownership KV bucket: partition leases and actor-process membership, entries expire after LEASE_TTL_MS.
 * Idempotent: every process calls it on start.
 */
export async function ensureTopology(nc: NatsConnection, names: Names, opts: TopologyOptions): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, {
    name: names.commandsStream,
    subjects: [names.commandsAll],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(120_000),
    num_replicas: opts.replicas,
  });
  await ensureStream(jsm, {
    name: names.eventsStream,
    subjects: [names.eventsAll],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(7 * 24 * 3600 * 1000),
    duplicate_window: nanos(120_000),
    num_replicas: opts.replicas,
  });
  await ownershipBucket(nc, names, opts);
}

export async function ownershipBucket(nc: NatsConnection, names: Names, opts: TopologyOptions): Promise<KV> {
  return nc.jetstream().views.kv(names.ownershipBucket, { history: 1, ttl: opts.leaseTtlMs, replicas: opts.replicas, storage: StorageType.File });
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, config);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await jsm.streams.add(config);
    } catch (addErr) {
      // another process created it meanwhile
      if (!/already in use|exists/i.test(String(addErr))) throw addErr;
    }
  }
}

function isNotFound(err: unknown): boolean {
  return /not found/i.test(String((err as Error)?.message ?? err));
}
