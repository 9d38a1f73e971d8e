import type { Orm } from './orm.js';
import { Sql } from './sql.js';

/** A derived table of literal rows, portable between MySQL 8 and MariaDB: `SELECT ? AS a, ? AS b UNION ALL SELECT ?, ?`. */
function literalRows(columns: readonly string[], count: number): string {
  const first = `SELECT ${columns.map((c) => `? AS ${c}`).join(', ')}`;
  const next = `SELECT ${columns.map(() => '?').join(', ')}`;
  return [first, ...new Array<string>(count - 1).fill(next)].join(' UNION ALL ');
}

const marks = (n: number): string => new Array<string>(n).fill('?').join(', ');

/** The counted parents: their counter column, and the COUNT(*) of the children of row `p`. */
const parents = {
  applications: { column: 'chats_count', truth: '(SELECT COUNT(*) FROM chats c WHERE c.application_id = p.id)' },
  chats: { column: 'messages_count', truth: '(SELECT COUNT(*) FROM messages m WHERE m.chat_id = p.id)' },
} as const;

export type CountedParent = keyof typeof parents;

/** A statement that deadlocked with another projections process's is tried again this many times. */
const DEADLOCK_RETRIES = 3;

/**
 * The SQL of the chats_count / messages_count columns: raised by the counters projection (GREATEST, one
 * statement per table and chunk), recounted by the reconciler. Failures are 503 `unavailable` (sql.ts).
 */
export class CounterStore {
  private readonly sql: Sql;

  constructor(orm: Orm) {
    this.sql = new Sql(orm);
  }

  applicationIds(tokens: readonly string[]): Promise<Array<{ id: number; token: string }>> {
    return this.sql.all(`SELECT id, token FROM applications WHERE token IN (${marks(tokens.length)})`, tokens);
  }

  /** Raises each application's chats_count to `top` (never lowers it). Rows in key order. */
  async raiseChatsCounts(rows: ReadonlyArray<readonly [token: string, top: number]>): Promise<void> {
    await this.sql.run(
      `UPDATE applications a JOIN (${literalRows(['token', 'top'], rows.length)}) v ON a.token = v.token SET a.chats_count = GREATEST(a.chats_count, v.top)`,
      rows.flat(), DEADLOCK_RETRIES,
    );
  }

  /** Raises each chat's messages_count to `top` (never lowers it). Rows in key order. */
  async raiseMessagesCounts(rows: ReadonlyArray<readonly [applicationId: number, number: number, top: number]>): Promise<void> {
    await this.sql.run(
      `UPDATE chats c JOIN (${literalRows(['application_id', 'number', 'top'], rows.length)}) v
        ON c.application_id = v.application_id AND c.number = v.number SET c.messages_count = GREATEST(c.messages_count, v.top)`,
      rows.flat(), DEADLOCK_RETRIES,
    );
  }

  /** A keyset page of parents after id `after`: the stored count and the true one (plain consistent read). */
  recount(parent: CountedParent, after: number, limit: number): Promise<Array<{ id: number; stored: number; truth: number }>> {
    const { column, truth } = parents[parent];
    return this.sql.all(`SELECT p.id, p.${column} AS stored, ${truth} AS truth FROM ${parent} p WHERE p.id > ? ORDER BY p.id LIMIT ?`, [after, limit]);
  }

  /** Raises one row's count to `truth`; resolves with the rows changed (0 or 1). */
  raise(parent: CountedParent, id: number, truth: number): Promise<number> {
    const { column } = parents[parent];
    return this.sql.run(`UPDATE ${parent} SET ${column} = GREATEST(${column}, ?) WHERE id = ?`, [truth, id]);
  }

  /** Lowers one row's count to `truth` if it is still `stored` (compare-and-set); resolves with the rows changed. */
  lower(parent: CountedParent, id: number, truth: number, stored: number): Promise<number> {
    const { column } = parents[parent];
    return this.sql.run(`UPDATE ${parent} SET ${column} = ? WHERE id = ? AND ${column} = ?`, [truth, id, stored]);
  }
}
