import { ReferenceKind, UnderscoreNamingStrategy, type EntityProperty } from '@mikro-orm/core';
import { Application, Chat, Message } from './entities/index.js';
import type { Orm } from './orm.js';
import { MESSAGE_WRITE_ONLY, type ApplicationRow, type ChatRow, type MessageRow } from './presenters.js';
import { Sql } from './sql.js';
import { TurnBatcher } from './turn-batcher.js';

export interface ApplicationState {
  applicationId: number;
  /** Highest chat number in MySQL (0 when none). */
  lastChat: number;
}

export interface ChatState {
  chatId: number;
  applicationId: number;
  /** Highest message number in MySQL (0 when none). */
  lastMessage: number;
}

/**
 * Keyset page of numbered children: numbers are gapless, so the page after `after` is the range
 * after+1 … after+limit, asked as such (`BETWEEN`): MariaDB then seeks the (parent, number) index to the
 * page (a range of `limit` entries), where `number > ?` alone made it walk the parent's entries from its
 * first one (a ref scan with a filter: 4 ms for a page deep into a chat of 100,000 messages).
 */
const page = (after: number, limit: number): [number, number, number] => [after + 1, after + limit, limit];

const naming = new UnderscoreNamingStrategy();

/**
 * The select list of an entity's own columns (relations and `omit` left out), each aliased to its property
 * (`chats_count AS chatsCount`), so that the driver returns rows already entity-shaped (a `Row<E>`, see
 * presenters.ts) with no mapping pass. Column names come from the entity definition through the ORM's
 * default naming strategy, as the ORM itself names them.
 */
function columnsOf(
  entity: { readonly meta: { readonly properties: Readonly<Record<string, Pick<EntityProperty, 'kind' | 'fieldNames'>>> } },
  { alias, omit = [] }: { alias?: string; omit?: readonly string[] } = {},
): string {
  return Object.entries(entity.meta.properties)
    .filter(([property, prop]) => (prop.kind === undefined || prop.kind === ReferenceKind.SCALAR) && !omit.includes(property))
    .map(([property, prop]) => {
      const column = prop.fieldNames?.[0] ?? naming.propertyToColumnName(property);
      const qualified = alias ? `${alias}.${column}` : column;
      return column === property ? qualified : `${qualified} AS ${property}`;
    })
    .join(', ');
}

const applications = columnsOf(Application);
const chats = columnsOf(Chat);
const chatsOfC = columnsOf(Chat, { alias: 'c' });
const messages = columnsOf(Message, { omit: MESSAGE_WRITE_ONLY });

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * Every read the service makes, as plain SQL over unique or primary keys (see test/storage/explain.test.ts:
 * none of them scans). Lists are keyset-paginated: `after` is exclusive, and one extra row tells whether
 * a next page exists.
 */
export class Queries {
  private readonly sql: Sql;
  private readonly pointReads = new TurnBatcher((keys: Array<{ chatId: number; number: number }>) => this.readPoints(keys), 200);
  private readonly pageReads = new TurnBatcher((keys: Array<{ chatId: number; from: number; to: number }>) => this.readPages(keys), 16);

  constructor(orm: Orm) {
    this.sql = new Sql(orm);
  }

  private all<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.sql.all<T>(sql, params);
  }

  private one<T>(sql: string, params: unknown[]): Promise<T | undefined> {
    return this.sql.one<T>(sql, params);
  }

  static readonly sql = {
    applicationByToken: `SELECT ${applications} FROM applications WHERE token = ?`,
    applicationsFirst: `SELECT ${applications} FROM applications ORDER BY id LIMIT ?`,
    applicationsAfter: `SELECT ${applications} FROM applications WHERE id > ? ORDER BY id LIMIT ?`,
    chatByNumber: `SELECT ${chatsOfC} FROM chats c JOIN applications a ON a.id = c.application_id WHERE a.token = ? AND c.number = ?`,
    chatsAfter: `SELECT ${chats} FROM chats WHERE application_id = ? AND number BETWEEN ? AND ? ORDER BY number LIMIT ?`,
    /**
     * Messages by (chat id, number), for point reads arriving together (see `messageByNumber`): one group
     * `(chat_id = ? AND number IN (…))` per chat, ORed — seeks of the (chat_id, number) key. By the chat's id
     * (immutable, cached by its readers), where the join from the token cost MariaDB several times as much.
     */
    messagesByNumbers: (groups: readonly number[]): string => `SELECT chat_id AS chatId, ${messages} FROM messages
      WHERE ${groups.map((n) => `(chat_id = ? AND number IN (${marks(n)}))`).join(' OR ')}`,
    /** Pages of messages asked together (see `listMessages`): one range `(chat_id = ? AND number BETWEEN ? AND ?)` per page, ORed. */
    messagePages: (pages: number): string => `SELECT chat_id AS chatId, ${messages} FROM messages
      WHERE ${Array.from({ length: pages }, () => '(chat_id = ? AND number BETWEEN ? AND ?)').join(' OR ')} ORDER BY chat_id, number`,
    /** Live streams: where a chat's feed starts. */
    lastMessageNumber: 'SELECT MAX(number) AS last FROM messages WHERE chat_id = ?',
    /** Live streams, resume: the messages up to a number edited after a version (a range of the chat's key). */
    messagesEditedSince: `SELECT ${messages} FROM messages WHERE chat_id = ? AND number <= ? AND version > ? ORDER BY version LIMIT ?`,
    applicationByCommandId: `SELECT ${applications} FROM applications WHERE command_id = ?`,
    chatByCommandId: `SELECT ${chats} FROM chats WHERE command_id = ?`,
    messageByCommandId: `SELECT ${messages} FROM messages WHERE command_id = ?`,
    /** Actor activation, many at once: ids and highest chat number of applications by token. */
    applicationStates: (tokens: number): string => `SELECT a.id, a.token, (SELECT MAX(c.number) FROM chats c WHERE c.application_id = a.id) AS last_chat
      FROM applications a WHERE a.token IN (${marks(tokens)})`,
    /** Actor activation, many at once: ids and highest message number of chats of one application. */
    chatStates: (chats: number): string => `SELECT c.id, c.application_id, c.number, (SELECT MAX(m.number) FROM messages m WHERE m.chat_id = c.id) AS last_message
      FROM chats c JOIN applications a ON a.id = c.application_id WHERE a.token = ? AND c.number IN (${marks(chats)})`,
  } as const;

  applicationByToken(token: string): Promise<ApplicationRow | undefined> {
    return this.one(Queries.sql.applicationByToken, [token]);
  }

  /** `afterId`: the position of the previous page's last row (the listing's cursor seals it; it is never shown). */
  listApplications(afterId: number | undefined, limit: number): Promise<ApplicationRow[]> {
    return afterId === undefined
      ? this.all(Queries.sql.applicationsFirst, [limit])
      : this.all(Queries.sql.applicationsAfter, [afterId, limit]);
  }

  chatByNumber(token: string, number: number): Promise<ChatRow | undefined> {
    return this.one(Queries.sql.chatByNumber, [token, number]);
  }

  listChats(applicationId: number, after: number, limit: number): Promise<ChatRow[]> {
    return this.all(Queries.sql.chatsAfter, [applicationId, ...page(after, limit)]);
  }

  /** A message by its chat's id and number; the reads of one turn share a query (`TurnBatcher`). */
  messageByNumber(chatId: number, number: number): Promise<MessageRow | undefined> {
    return this.pointReads.load({ chatId, number });
  }

  /** The messages of a chat after `after` (at most `limit`); the pages asked in one turn share a query (`TurnBatcher`). */
  listMessages(chatId: number, after: number, limit: number): Promise<MessageRow[]> {
    const [from, to] = page(after, limit);
    return this.pageReads.load({ chatId, from, to });
  }

  /**
   * The batched reads (`readPoints`, `readPages`) answer with the query's rows as they come, each still carrying its
   * chat's id (`chatId`, outside `MessageRow`): the presenters pick a resource's fields, so it is never shown.
   */
  private async readPoints(keys: ReadonlyArray<{ chatId: number; number: number }>): Promise<Array<MessageRow | undefined>> {
    const byChat = new Map<number, Set<number>>();
    for (const { chatId, number } of keys) {
      const numbers = byChat.get(chatId) ?? new Set<number>();
      byChat.set(chatId, numbers.add(number));
    }
    const params = [...byChat].flatMap(([chatId, numbers]) => [chatId, ...numbers]);
    const rows = await this.all<MessageRow & { chatId: number }>(Queries.sql.messagesByNumbers([...byChat.values()].map((n) => n.size)), params);
    const found = new Map(rows.map((row) => [`${row.chatId}.${row.number}`, row]));
    return keys.map(({ chatId, number }) => found.get(`${chatId}.${number}`));
  }

  /**
   * Numbers are gapless, so a page is the range from..to of its chat's key. Rows come ordered by (chat, number), so
   * each page is one run of them: found by binary search, not by filtering every row of the chat (the pages of one
   * turn are often in the same chat, and filtering made the work grow with the square of the pages asked).
   */
  private async readPages(keys: ReadonlyArray<{ chatId: number; from: number; to: number }>): Promise<MessageRow[][]> {
    const rows = await this.all<MessageRow & { chatId: number }>(Queries.sql.messagePages(keys.length), keys.flatMap((k) => [k.chatId, k.from, k.to]));
    return keys.map(({ chatId, from, to }) => {
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const row = rows[mid]!;
        if (row.chatId < chatId || (row.chatId === chatId && row.number < from)) lo = mid + 1;
        else hi = mid;
      }
      const page: MessageRow[] = [];
      for (let i = lo; i < rows.length && rows[i]!.chatId === chatId && rows[i]!.number <= to; i++) page.push(rows[i]!);
      return page;
    });
  }

  async lastMessageNumber(chatId: number): Promise<number> {
    const row = await this.one<{ last: number | null }>(Queries.sql.lastMessageNumber, [chatId]);
    return Number(row?.last ?? 0);
  }

  messagesEditedSince(chatId: number, upTo: number, afterVersion: number, limit: number): Promise<MessageRow[]> {
    return this.all(Queries.sql.messagesEditedSince, [chatId, upTo, afterVersion, limit]);
  }

  /** Rows an earlier attempt of the same command created (redelivery or an Idempotency-Key retry). */
  applicationByCommandId(commandId: string): Promise<ApplicationRow | undefined> {
    return this.one(Queries.sql.applicationByCommandId, [commandId]);
  }

  chatByCommandId(commandId: string): Promise<ChatRow | undefined> {
    return this.one(Queries.sql.chatByCommandId, [commandId]);
  }

  messageByCommandId(commandId: string): Promise<MessageRow | undefined> {
    return this.one(Queries.sql.messageByCommandId, [commandId]);
  }

  /** What an application actor loads on activation, for many applications in one query. */
  async applicationStates(tokens: readonly string[]): Promise<Map<string, ApplicationState>> {
    const rows = await this.all<{ id: number; token: string; last_chat: number | null }>(Queries.sql.applicationStates(tokens.length), [...tokens]);
    return new Map(rows.map((r) => [r.token, { applicationId: Number(r.id), lastChat: Number(r.last_chat ?? 0) }]));
  }

  /** What a chat actor loads on activation, for many chats of one application in one query; keyed by chat number. */
  async chatStates(token: string, numbers: readonly number[]): Promise<Map<number, ChatState>> {
    const rows = await this.all<{ id: number; application_id: number; number: number; last_message: number | null }>(
      Queries.sql.chatStates(numbers.length),
      [token, ...numbers],
    );
    return new Map(rows.map((r) => [Number(r.number), { chatId: Number(r.id), applicationId: Number(r.application_id), lastMessage: Number(r.last_message ?? 0) }]));
  }

  async ping(): Promise<boolean> {
    try {
      await this.all('SELECT 1', []);
      return true;
    } catch {
      return false;
    }
  }
}
