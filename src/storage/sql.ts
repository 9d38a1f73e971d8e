import { UnavailableError } from '../domain/errors.js';
import type { Orm } from './orm.js';

/**
 * Plain SQL on the pool, outside any transaction. Driver failures (MySQL down, pool exhausted) become 503
 * `unavailable` here, at the storage boundary; the driver's error is kept as the cause (see db-errors.ts).
 */
export class Sql {
  constructor(private readonly orm: Orm) {}

  async all<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    try {
      return (await this.orm.em.getConnection().execute(sql, [...params], 'all')) as T[];
    } catch (err) {
      throw UnavailableError.dependency('MySQL', err);
    }
  }

  async one<T>(sql: string, params: readonly unknown[]): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /** Runs a write; resolves with the number of rows it changed. A deadlock is tried again up to `deadlockRetries` times. */
  async run(sql: string, params: readonly unknown[], deadlockRetries = 0): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = (await this.orm.em.getConnection().execute(sql, [...params], 'run')) as { affectedRows?: number };
        return Number(res.affectedRows ?? 0);
      } catch (err) {
        if (attempt < deadlockRetries && (err as { errno?: number }).errno === ER_LOCK_DEADLOCK) continue;
        throw UnavailableError.dependency('MySQL', err);
      }
    }
  }
}

const ER_LOCK_DEADLOCK = 1213;
