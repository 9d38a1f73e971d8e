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
 * group commit) takes a shared lock and fails the transaction if a newer owner has advanced it.
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

  static async check(em: EntityManager, partition: number, epoch: number): Promise<void> {
    const rows = (await em.getConnection().execute(
      'SELECT epoch FROM partition_fences WHERE partition_no = ? LOCK IN SHARE MODE',
      [partition],
      'all',
      em.getTransactionContext(),
    )) as { epoch: number }[];
    const current = rows[0] === undefined ? undefined : Number(rows[0].epoch);
    if (current !== epoch) throw new FencedError(partition, epoch, current);
  }
}
