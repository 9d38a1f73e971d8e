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
export type ChatRow = Row<Chat>;
export type MessageRow = Row<Message>;

const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();

export function presentApplication(row: Pick<ApplicationRow, 'token' | 'name' | 'chatsCount' | 'createdAt' | 'updatedAt'>): ApplicationResource {
  return { token: row.token, name: row.name, chats_count: Number(row.chatsCount), created_at: iso(row.createdAt), updated_at: iso(row.updatedAt) };
}

export function presentChat(row: Pick<ChatRow, 'number' | 'name' | 'messagesCount' | 'createdAt' | 'updatedAt'>): ChatResource {
  return { number: Number(row.number), name: row.name ?? null, messages_count: Number(row.messagesCount), created_at: iso(row.createdAt), updated_at: iso(row.updatedAt) };
}

export function presentMessage(row: Pick<MessageRow, 'number' | 'body' | 'createdAt' | 'updatedAt'>): MessageResource {
  return { number: Number(row.number), body: row.body, created_at: iso(row.createdAt), updated_at: iso(row.updatedAt) };
}
