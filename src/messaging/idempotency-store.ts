import { StorageType, nanos, type KV, type NatsConnection } from 'nats';
import { UnavailableError, type ErrorBody } from '../domain/errors.js';
import type { Names } from '../protocol/subjects.js';
import { decodeJson, encodeJson } from './nats.js';

/** The outcome of a keyed request, replayed to its retries: a resource, or an error the actor answered. */
export interface StoredOutcome {
  status: number;
  resource?: unknown;
  error?: ErrorBody;
}

/** What is remembered about one Idempotency-Key (of one tenant). */
export interface IdempotencyRecord {
  /** Fingerprint of the request the key is bound to. */
  fp: string;
  /** When the attempt in charge started (ms since the epoch): an attempt older than the command timeout is over. */
  at: number;
  /** Commands-stream sequence of the first attempt's command, once published. */
  seq?: number;
  /** Set once the outcome is known; the record is then final. */
  outcome?: StoredOutcome;
}

export interface StoredRecord {
  record: IdempotencyRecord;
  revision: number;
}

export interface IdempotencyStoreOptions {
  ttlSeconds: number;
  replicas: number;
}

/**
 * Idempotency-Keys, durably, in the JetStream KV bucket `<ns>_idempotency` (file storage, one revision per key,
 * entries expire after IDEMPOTENCY_TTL_SECONDS). Written by the api side only: a creation request never writes
 * MySQL. A record is claimed with `create` (only one attempt can), and completed with the outcome.
 */
export class IdempotencyStore {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, names: Names, opts: IdempotencyStoreOptions): Promise<IdempotencyStore> {
    const ttlMs = opts.ttlSeconds * 1000;
    const kv = await nc.jetstream().views.kv(names.idempotencyBucket, { history: 1, ttl: ttlMs, replicas: opts.replicas, storage: StorageType.File });
    // the bucket may exist from a run with another IDEMPOTENCY_TTL_SECONDS: the current setting wins
    const jsm = await nc.jetstreamManager();
    const stream = `KV_${names.idempotencyBucket}`;
    const info = await jsm.streams.info(stream);
    if (info.config.max_age !== nanos(ttlMs)) await jsm.streams.update(stream, { ...info.config, max_age: nanos(ttlMs) });
    return new IdempotencyStore(kv);
  }

  /** Takes a new key for this attempt; when the key is known, answers its record instead. */
  async claim(key: string, record: IdempotencyRecord): Promise<{ claimed: true; revision: number } | { claimed: false; existing: StoredRecord }> {
    try {
      return { claimed: true, revision: await this.kv.create(key, encodeJson(record)) };
    } catch (err) {
      const existing = await this.get(key);
      if (existing) return { claimed: false, existing };
      throw unavailable(err);
    }
  }

  async get(key: string): Promise<StoredRecord | undefined> {
    try {
      const entry = await this.kv.get(key);
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
      return { record: decodeJson(entry.value) as IdempotencyRecord, revision: entry.revision };
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** Writes a record only if it is still at `revision` (compare-and-set); false when someone else wrote first. */
  async replace(key: string, record: IdempotencyRecord, revision: number): Promise<number | undefined> {
    try {
      return await this.kv.update(key, encodeJson(record), revision);
    } catch (err) {
      if (await this.get(key)) return undefined; // another attempt moved it on
      throw unavailable(err);
    }
  }

  async put(key: string, record: IdempotencyRecord): Promise<void> {
    try {
      await this.kv.put(key, encodeJson(record));
    } catch (err) {
      throw unavailable(err);
    }
  }
}

function unavailable(err: unknown): UnavailableError {
  return UnavailableError.dependency('the idempotency store (NATS JetStream)', err);
}
