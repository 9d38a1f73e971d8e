import type { Orm } from './orm.js';

export interface PoolUsage {
  used: number;
  free: number;
  pendingAcquires: number;
  max: number;
}

/** The shape of knex's tarn pool that we read. */
interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  max: number;
}

/** Usage of MikroORM's connection pool (knex → tarn), read-only; undefined when the pool is not there (closed). */
export function poolUsage(orm: Orm): PoolUsage | undefined {
  const pool = (orm.em.getConnection().getKnex().client as { pool?: TarnPool }).pool;
  if (!pool) return undefined;
  return { used: pool.numUsed(), free: pool.numFree(), pendingAcquires: pool.numPendingAcquires(), max: pool.max };
}
