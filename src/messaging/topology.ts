import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type KV, type NatsConnection } from 'nats';
import { ensureStream } from './jetstream-ensure.js';
import type { Names } from '../protocol/subjects.js';

export interface TopologyOptions {
  replicas: number;
  leaseTtlMs: number;
}

/** A setting that must be the same in every process of a NAMESPACE differs from the one stored with its streams. */
export class TopologyMismatchError extends Error {
  override name = 'TopologyMismatchError';
}

const PARTITIONS_KEY = 'partitions';

/**
 * PARTITIONS of a new deployment started without one (PARTITIONS=0). Enough actors processes for a cluster of
 * a few machines; each partition's consumer costs nats-server work per command (see config.ts), so more is not free.
 */
export const DEFAULT_PARTITIONS = 16;

/**
 * The JetStream objects of one NAMESPACE:
 * - COMMANDS: work queue of commands, file storage, deduplicated by Nats-Msg-Id; a message leaves it when acked.
 * - EVENTS: domain events for projections, kept 7 days, deduplicated by event id.
 * - ownership KV bucket: partition leases and actor-process membership, entries expire after LEASE_TTL_MS.
 * - topology KV bucket (no expiry): `partitions`, the PARTITIONS the streams were created with. Written once
 *   with create(); a process started with another value refuses to start (TopologyMismatchError): with two
 *   partition counts, one chat would have two single writers. A process started with PARTITIONS=0 takes the
 *   stored value (DEFAULT_PARTITIONS when it is the first).
 * Idempotent: every process calls it on start. Resolves with the deployment's PARTITIONS.
 */
export async function ensureTopology(nc: NatsConnection, names: Names, opts: TopologyOptions & { partitions: number }): Promise<number> {
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
  return deploymentPartitions(nc, names, opts);
}

/**
 * Stores PARTITIONS with the streams on first start and answers the stored value; refuses a process started with
 * another value (0 takes whatever is stored).
 */
async function deploymentPartitions(nc: NatsConnection, names: Names, opts: { replicas: number; partitions: number }): Promise<number> {
  const kv = await nc.jetstream().views.kv(names.topologyBucket, { history: 1, replicas: opts.replicas, storage: StorageType.File });
  const wanted = opts.partitions === 0 ? DEFAULT_PARTITIONS : opts.partitions;
  try {
    await kv.create(PARTITIONS_KEY, new TextEncoder().encode(String(wanted)));
    return wanted;
  } catch {
    // already stored (or NATS trouble, which the read below reports)
  }
  const entry = await kv.get(PARTITIONS_KEY);
  if (!entry || entry.operation !== 'PUT') throw new Error(`could not store or read ${PARTITIONS_KEY} in KV bucket ${names.topologyBucket}`);
  const stored = Number(new TextDecoder().decode(entry.value));
  if (opts.partitions !== 0 && stored !== opts.partitions) {
    throw new TopologyMismatchError(
      `PARTITIONS=${opts.partitions}, but this NAMESPACE's streams were set up with PARTITIONS=${stored} (KV bucket ${names.topologyBucket}, key ${PARTITIONS_KEY}). ` +
      'Every process of a deployment must use the same value (or 0, which takes the stored one): it decides which process is the single writer of a chat. ' +
      'To change it, stop every process, let the commands stream empty, delete that key, and start them all with the new value.',
    );
  }
  return stored;
}

export async function ownershipBucket(nc: NatsConnection, names: Names, opts: TopologyOptions): Promise<KV> {
  return nc.jetstream().views.kv(names.ownershipBucket, { history: 1, ttl: opts.leaseTtlMs, replicas: opts.replicas, storage: StorageType.File });
}

/**
 * A duty that one process of the deployment should run once per `intervalMs` (the counters reconciliation),
 * whatever the number of processes: each call answers true for at most one caller per interval. The time of
 * the last run is kept in the topology KV bucket and moved forward with a compare-and-set, so when several
 * processes ask at once only one wins; an unreachable NATS answers false (the duty is skipped, not doubled).
 */
export function periodicDuty(nc: NatsConnection, names: Names, key: string, intervalMs: number, replicas: number): () => Promise<boolean> {
  let kv: KV | undefined;
  const encode = (at: number): Uint8Array => new TextEncoder().encode(JSON.stringify({ at }));
  return async () => {
    try {
      kv ??= await nc.jetstream().views.kv(names.topologyBucket, { history: 1, replicas, storage: StorageType.File });
      const now = Date.now();
      const entry = await kv.get(`duty.${key}`);
      if (!entry || entry.operation !== 'PUT') {
        await kv.create(`duty.${key}`, encode(now));
        return true;
      }
      const last = Number((JSON.parse(new TextDecoder().decode(entry.value)) as { at?: number }).at ?? 0);
      // a little slack: processes tick every interval, never exactly in step
      if (now - last < intervalMs * 0.9) return false;
      await kv.update(`duty.${key}`, encode(now), entry.revision);
      return true;
    } catch {
      return false; // someone else won the race (or NATS is unreachable)
    }
  };
}
