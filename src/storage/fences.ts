import type { EntityManager } from '@mikro-orm/mysql';
import type { Orm } from './orm.js';

export class FencedError extends Error {
  override name = 'FencedError';
  constructor(partition: number, mine: number, current: number | undefined) {
    super(`partition ${partition} is fenced: our epoch ${mine}, current ${current ?? 'none'}`);
  }
}

/**
 * Partition fencing tokens in MySQL. `advance` (on winning a lease) bumps the epoch under an exclusive
 * row lock, so it waits for any commit of the previous owner still in progress; `check` (inside every
 * group commit) reads it under a shared lock; writes of a partition whose epoch moved on are refused.
 */
export class Fences {
  constructor(private readonly orm: Orm) {}

  async advance(partition: number, owner: string): Promise<number> {
    const conn = this.orm.em.getConnection();
    await conn.execute('INSERT IGNORE INTO partition_fences (partition_no, epoch, owner, updated_at) VALUES (?, 0, ?, ?)', [partition, owner, new Date()]);
    return this.orm.em.fork().transactional(async (em) => {
      const tx = em.getConnection();
      const ctx = em.getTransactionContext();
      await tx.execute('UPDATE partition_fences SET epoch = epoch + 1, owner = ?, updated_at = ? WHERE partition_no = ?', [owner, new Date(), partition], 'run', ctx);
      const rows = (await tx.execute('SELECT epoch FROM partition_fences WHERE partition_no = ?', [partition], 'all', ctx)) as { epoch: number }[];
      return Number(rows[0]!.epoch);
    });
  }

  /**
   * The current epoch of each of `partitions`, read under a shared lock inside the caller's transaction: a
   * newer owner's `advance` waits for that transaction, so a commit that saw its own epoch here cannot be
   * overtaken by a takeover.
   */
  static async current(em: EntityManager, partitions: readonly number[]): Promise<Map<number, number>> {
    if (partitions.length === 0) return new Map();
    const rows = (await em.getConnection().execute(
      `SELECT partition_no, epoch FROM partition_fences WHERE partition_no IN (${partitions.map(() => '?').join(', ')}) LOCK IN SHARE MODE`,
      [...partitions],
      'all',
      em.getTransactionContext(),
    )) as { partition_no: number; epoch: number }[];
    return new Map(rows.map((r) => [Number(r.partition_no), Number(r.epoch)]));
  }
}
