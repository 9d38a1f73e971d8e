import type { Orm } from './orm.js';
import { Sql } from './sql.js';

/** A message with what a search document needs (its application token and chat number). */
export interface ExportedMessage { id: number; token: string; chat_number: number; number: number; body: string; version: number; created_at: Date | string; updated_at: Date | string }

/** Every message, in keyset pages by id: what the search reindex loads. Failures are 503 `unavailable` (sql.ts). */
export class MessageExport {
  private readonly sql: Sql;

  constructor(orm: Orm) {
    this.sql = new Sql(orm);
  }

  async count(): Promise<number> {
    return Number((await this.sql.one<{ n: number }>('SELECT COUNT(*) AS n FROM messages', []))?.n ?? 0);
  }

  page(afterId: number, limit: number): Promise<ExportedMessage[]> {
    return this.sql.all(
      `SELECT m.id, a.token, c.number AS chat_number, m.number, m.body, m.version, m.created_at, m.updated_at
        FROM messages m JOIN chats c ON c.id = m.chat_id JOIN applications a ON a.id = c.application_id
        WHERE m.id > ? ORDER BY m.id LIMIT ?`,
      [afterId, limit],
    );
  }
}
