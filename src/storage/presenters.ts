import type { ApplicationResource, ChatResource, MessageResource } from '../protocol/resources.js';
import type { Application, Chat, Message } from './entities/index.js';

type Scalar = string | number | bigint | boolean | Date | null | undefined;

/**
 * A table's own columns as its entity types them (relations left out). The read queries return this shape
 * (their select lists alias each column to its property, see queries.ts), and an entity fresh from a write
 * already is one, so the presenters below take both.
 */
type Row<E> = { [K in keyof E as K extends string ? (E[K] extends Scalar ? K : never) : never]: E[K] };
export type ApplicationRow = Row<Application>;
// the parent's id (a relation mapped to its key, see the entities) is not part of what the read queries select
export type ChatRow = Omit<Row<Chat>, 'application'>;
/**
 * A message's columns that only its write uses: the row id and the id of the command that created it (the
 * idempotency check finds a row by it, it is never read back). Message reads leave them out (storage/queries.ts):
 * a page of 100 is decoded row by row, and they were a quarter of the columns it decoded.
 */
export const MESSAGE_WRITE_ONLY = ['id', 'commandId'] as const;
export type MessageRow = Omit<Row<Message>, 'chat' | (typeof MESSAGE_WRITE_ONLY)[number]>;

/**
 * A DATETIME(3) column as ISO 8601 in UTC. Entities fresh from a write carry a Date; rows read with plain SQL
 * carry MySQL's text, "2026-12-06 02:11:00.123" (MikroORM's MySQL driver asks mysql2 for date strings), a UTC
 * wall-clock time (the driver writes Dates in its `timezone`, +00:00: storage/orm.ts). The text is rewritten, not
 * parsed: `new Date(text)` reads that form
 * as local time, so with a TZ other than UTC every date read back was shifted by the offset (and the parse was the
 * largest single item of the api's CPU for a page of messages).
 */
export function isoUtc(value: Date | string): string {
  if (value instanceof Date) return value.toISOString();
  if (value.length === 23 && value[10] === ' ' && value[19] === '.') return `${value.slice(0, 10)}T${value.slice(11)}Z`;
  const parts = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?$/.exec(value);
  if (!parts) throw new Error(`not a MySQL DATETIME: ${JSON.stringify(value)}`);
  return `${parts[1]}T${parts[2]}.${(parts[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
}

export function presentApplication(row: Pick<ApplicationRow, 'token' | 'name' | 'chatsCount' | 'createdAt' | 'updatedAt'>): ApplicationResource {
  return { token: row.token, name: row.name, chats_count: Number(row.chatsCount), created_at: isoUtc(row.createdAt), updated_at: isoUtc(row.updatedAt) };
}

export function presentChat(row: Pick<ChatRow, 'number' | 'name' | 'messagesCount' | 'createdAt' | 'updatedAt'>): ChatResource {
  return { number: Number(row.number), name: row.name ?? null, messages_count: Number(row.messagesCount), created_at: isoUtc(row.createdAt), updated_at: isoUtc(row.updatedAt) };
}

export function presentMessage(row: Pick<MessageRow, 'number' | 'body' | 'createdAt' | 'updatedAt'>): MessageResource {
  return { number: Number(row.number), body: row.body, created_at: isoUtc(row.createdAt), updated_at: isoUtc(row.updatedAt) };
}
