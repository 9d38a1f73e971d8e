import type { EntityManager } from '@mikro-orm/mysql';
import { Fences } from '../storage/fences.js';
import type { Orm } from '../storage/orm.js';

/** One unit of work an actor hands to the committer: applied to the transaction's EntityManager, in order. */
export interface Write {
  apply(em: EntityManager): Promise<void> | void;
}

interface Queued {
  write: Write;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for one partition. Writes that arrive while a transaction is in flight wait and are flushed
 * together in the next one (at most `batchMax`), across all the chats of the partition: one MikroORM unit of
 * work, one fence check, one COMMIT. Any failure is fatal to the partition worker (its actors' in-memory
 * numbers may be ahead of MySQL): the committer refuses all further writes and reports to `onFatal`.
 */
export class Committer {
  private queue: Queued[] = [];
  private flushing = false;
  private failure: unknown;
  batches = 0;
  writes = 0;

  constructor(
    private readonly orm: Orm,
    private readonly partition: number,
    private readonly epoch: number,
    private readonly batchMax: number,
    private readonly onFatal: (err: unknown) => void,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  get depth(): number {
    return this.queue.length;
  }

  /** Resolves once the write is committed; rejects if its transaction (or an earlier one) failed. */
  commit(write: Write): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Fails everything queued; used when the worker stops abruptly. */
  abort(reason: unknown): void {
    if (this.failure === undefined) this.failure = reason;
    const queued = this.queue;
    this.queue = [];
    for (const q of queued) q.reject(reason);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && this.failure === undefined) {
      const batch = this.queue.splice(0, this.batchMax);
      try {
        await this.orm.em.fork().transactional(async (em) => {
          await Fences.check(em, this.partition, this.epoch);
          for (const q of batch) await q.write.apply(em);
        });
        this.batches++;
        this.writes += batch.length;
        for (const q of batch) q.resolve();
      } catch (err) {
        for (const q of batch) q.reject(err);
        this.abort(err);
        this.onFatal(err);
      }
    }
    this.flushing = false;
  }
}
