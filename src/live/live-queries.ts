import type { MessageResource } from '../protocol/resources.js';
import { UnavailableError } from '../domain/errors.js';
import type { Orm } from '../storage/orm.js';
import { presentMessage, type MessageRow } from '../storage/presenters.js';

/** A message as the live streams carry it: the API's resource, and the version of the write that made it. */
export interface VersionedMessage {
  message: MessageResource;
  version: number;
}

/**
 * The reads of the live streams, over the (chat_id, number) unique key: the highest number of a chat (a feed's
 * starting point), a range of numbers (replay, gap fill) and the messages up to a number edited after a
 * version (the replay of edits on resume: a range scan of the chat's messages up to that number).
 */
export class LiveQueries {
  constructor(private readonly orm: Orm) {}

  private async all<T>(sql: string, params: unknown[]): Promise<T[]> {
    try {
      return (await this.orm.em.getConnection().execute(sql, params, 'all')) as T[];
    } catch (err) {
      throw UnavailableError.dependency('MySQL', err);
    }
  }

  async lastNumber(chatId: number): Promise<number> {
    const rows = await this.all<{ last: number | null }>('SELECT MAX(number) AS last FROM messages WHERE chat_id = ?', [chatId]);
    return Number(rows[0]?.last ?? 0);
  }

  /** Messages after+1 … after+limit (numbers are gapless: a range of the unique key). */
  async created(chatId: number, after: number, limit: number): Promise<VersionedMessage[]> {
    const rows = await this.all<MessageRow>(
      'SELECT number, body, version, created_at, updated_at FROM messages WHERE chat_id = ? AND number BETWEEN ? AND ? ORDER BY number LIMIT ?',
      [chatId, after + 1, after + limit, limit],
    );
    return rows.map(versioned);
  }

  /** Messages numbered up to `upTo` whose version is above `afterVersion`, by version. */
  async editedSince(chatId: number, upTo: number, afterVersion: number, limit: number): Promise<VersionedMessage[]> {
    const rows = await this.all<MessageRow>(
      'SELECT number, body, version, created_at, updated_at FROM messages WHERE chat_id = ? AND number <= ? AND version > ? ORDER BY version LIMIT ?',
      [chatId, upTo, afterVersion, limit],
    );
    return rows.map(versioned);
  }
}

function versioned(row: MessageRow): VersionedMessage {
  return { message: presentMessage(row), version: Number(row.version) };
}
