import type { EntityManager } from '@mikro-orm/mysql';
import { CommitFailedError } from '../storage/db-errors.js';
import { Fences, FencedError } from '../storage/fences.js';
import type { Orm } from '../storage/orm.js';

/**
 * One unit of work an actor hands to the committer: applied to the transaction's EntityManager, in order.
 * What `apply` returns (typically the entity it created or changed) is what the commit resolves with.
 */
export interface Write<T = unknown> {
  apply(em: EntityManager): Promise<T> | T;
  /** Upper bound of the bytes this write adds to the SQL sent to MySQL (what counts against max_allowed_packet). */
  readonly bytes?: number;
}

export interface CommitterOptions {
  /** Most writes in one transaction. */
  batchMax: number;
  /** Most bytes of writes in one transaction (see `Write.bytes`); keep it well below max_allowed_packet. */
  batchBytes: number;
  /** Transactions in flight at once (each over different partitions). */
  pipeline: number;
}

/** Bytes a write is assumed to weigh when it does not say (a row's columns besides its text). */
const BASE_WRITE_BYTES = 256;

/** What a write of `text` may weigh in a statement: UTF-8 bytes, doubled for escaping, plus the other columns. */
export function textBytes(text: string): number {
  return 2 * Buffer.byteLength(text, 'utf8') + BASE_WRITE_BYTES;
}

/** Most transactions in flight beyond the first start only when at least this many writes wait (else they join the next). */
const CONCURRENT_BATCH_MIN = 16;

interface Queued {
  lane: CommitLane;
  write: Write;
  bytes: number;
  resolve: (written: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for every partition this process owns. Writes from all partition workers queue here in
 * arrival order; each transaction takes as many as fit (`batchMax` writes, `batchBytes` bytes) and checks
 * the fencing epoch of every partition in it with one statement. Up to `pipeline` transactions run at once,
 * but a partition is in at most one of them, so each partition's writes commit in the order its actors
 * made them (numbers stay gapless: a later write never commits before an earlier one of the same lane).
 *
 * A lane is one partition worker incarnation (partition + epoch). A failed write is fatal to its lane
 * (the actors' in-memory numbers may be ahead of MySQL): the lane refuses everything after it and reports
 * to its worker, which restarts. A fenced partition fails only its own writes; the rest of the transaction
 * commits.
 */
export class GroupCommitter {
  private queue: Queued[] = [];
  private readonly busy = new Set<CommitLane>();
  private inFlight = 0;
  private scheduled = false;
  batches = 0;
  writes = 0;

  constructor(
    private readonly orm: Orm,
    private readonly options: CommitterOptions,
  ) {}

  /** A lane for one worker incarnation of `partition`; `onFatal` is called once, on its first failed write. */
  lane(partition: number, epoch: number, onFatal: (err: unknown) => void): CommitLane {
    return new CommitLane(this, partition, epoch, onFatal);
  }

  /** @internal used by CommitLane */
  enqueue<T>(lane: CommitLane, write: Write<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ lane, write, bytes: write.bytes ?? BASE_WRITE_BYTES, resolve: resolve as (written: unknown) => void, reject });
      this.schedule();
    });
  }

  /** @internal drops what a lane still has queued (not what is in a transaction already). */
  dropQueued(lane: CommitLane, reason: unknown): void {
    const kept: Queued[] = [];
    for (const q of this.queue) {
      if (q.lane === lane) q.reject(reason);
      else kept.push(q);
    }
    this.queue = kept;
  }

  get depth(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.pipeline) return;
    this.scheduled = true;
    // after the current tick: the writes its actors make meanwhile join the same transaction
    setImmediate(() => {
      this.scheduled = false;
      this.startBatches();
    });
  }

  /**
   * Starts transactions while slots are free. Only the first starts with whatever is queued (no added latency
   * when load is light); a further one only once CONCURRENT_BATCH_MIN writes wait, so that under load writes
   * gather into a few large transactions rather than many of one write each (a transaction's fixed cost —
   * BEGIN, fence check, COMMIT, each a round trip — is most of the cost of a small one).
   */
  private startBatches(): void {
    while (this.inFlight < this.options.pipeline && this.queue.length > 0) {
      if (this.inFlight > 0 && this.queue.length < CONCURRENT_BATCH_MIN) return; // the running one's end reschedules

      const batch = this.take();
      if (batch.length === 0) return; // everything queued belongs to lanes in flight
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        for (const q of batch) this.busy.delete(q.lane);
        if (this.queue.length > 0) this.schedule();
      });
    }
  }

  /** The next batch, in queue order, skipping lanes that are in a transaction now (their order is kept). */
  private take(): Queued[] {
    const { batchMax, batchBytes } = this.options;
    const batch: Queued[] = [];
    const rest: Queued[] = [];
    const lanes = new Set<CommitLane>();
    let bytes = 0;
    let full = false;
    for (const q of this.queue) {
      if (full || this.busy.has(q.lane)) {
        rest.push(q);
        continue;
      }
      // a write that does not fit stops the batch: the lane's later writes must not overtake it
      if (batch.length >= batchMax || (batch.length > 0 && bytes + q.bytes > batchBytes)) {
        full = true;
        rest.push(q);
        continue;
      }
      batch.push(q);
      bytes += q.bytes;
      lanes.add(q.lane);
    }
    for (const lane of lanes) this.busy.add(lane);
    this.queue = rest;
    return batch;
  }

  private async run(batch: Queued[]): Promise<void> {
    let fenced = new Map<CommitLane, FencedError>();
    const written = new Map<Queued, unknown>();
    try {
      await this.orm.em.fork().transactional(async (em) => {
        fenced = await this.checkFences(em, batch);
        for (const q of batch) if (!fenced.has(q.lane)) written.set(q, await q.write.apply(em));
      });
    } catch (cause) {
      const err = new CommitFailedError(cause);
      const failed = new Set(batch.map((q) => q.lane));
      for (const q of batch) q.reject(err);
      for (const lane of failed) lane.fail(err);
      return;
    }
    let committed = 0;
    const lanes = new Set<CommitLane>();
    for (const q of batch) {
      const fence = fenced.get(q.lane);
      if (fence) {
        q.reject(fence);
      } else {
        committed++;
        q.lane.writes++;
        lanes.add(q.lane);
        q.resolve(written.get(q));
      }
    }
    for (const lane of lanes) lane.batches++;
    for (const [lane, err] of fenced) lane.fail(err);
    if (committed > 0) {
      this.batches++;
      this.writes += committed;
    }
  }

  private async checkFences(em: EntityManager, batch: Queued[]): Promise<Map<CommitLane, FencedError>> {
    const lanes = [...new Set(batch.map((q) => q.lane))];
    const current = await Fences.current(em, [...new Set(lanes.map((l) => l.partition))]);
    const fenced = new Map<CommitLane, FencedError>();
    for (const lane of lanes) {
      const epoch = current.get(lane.partition);
      if (epoch !== lane.epoch) fenced.set(lane, new FencedError(lane.partition, lane.epoch, epoch));
    }
    return fenced;
  }
}

/** The committer as one partition worker incarnation sees it. */
export class CommitLane {
  private failure: unknown;
  /** Transactions this lane had writes in, and its writes committed. */
  batches = 0;
  writes = 0;

  constructor(
    private readonly committer: GroupCommitter,
    readonly partition: number,
    readonly epoch: number,
    private readonly onFatal: (err: unknown) => void,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Resolves with what the write's `apply` returned once it is committed; rejects if its transaction (or an
   * earlier one of this lane) failed.
   */
  commit<T>(write: Write<T>): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.committer.enqueue(this, write);
  }

  /** Fails everything this lane has queued and refuses what comes next; used when the worker stops. */
  abort(reason: unknown): void {
    if (this.failure === undefined) this.failure = reason;
    this.committer.dropQueued(this, reason);
  }

  /** @internal a write of this lane failed: abort, and tell the worker (once). */
  fail(err: unknown): void {
    const first = this.failure === undefined;
    this.abort(err);
    if (first) this.onFatal(err);
  }
}
