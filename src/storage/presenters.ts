import type { ApplicationResource, ChatResource, MessageResource } from '../protocol/resources.js';

/** Row shapes as MySQL returns them (snake_case columns). */
export interface ApplicationRow { id: number; token: string; name: string; chats_count: number; version: number; created_at: Date; updated_at: Date }
export interface ChatRow { id: number; application_id: number; number: number; name: string | null; messages_count: number; version: number; created_at: Date; updated_at: Date }
export interface MessageRow { id: number; chat_id: number; number: number; body: string; version: number; created_at: Date; updated_at: Date }

const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();

export function presentApplication(row: Pick<ApplicationRow, 'token' | 'name' | 'chats_count' | 'created_at' | 'updated_at'>): ApplicationResource {
  return { token: row.token, name: row.name, chats_count: Number(row.chats_count), created_at: iso(row.created_at), updated_at: iso(row.updated_at) };
}

export function presentChat(row: Pick<ChatRow, 'number' | 'name' | 'messages_count' | 'created_at' | 'updated_at'>): ChatResource {
  return { number: Number(row.number), name: row.name, messages_count: Number(row.messages_count), created_at: iso(row.created_at), updated_at: iso(row.updated_at) };
}

export function presentMessage(row: Pick<MessageRow, 'number' | 'body' | 'created_at' | 'updated_at'>): MessageResource {
  return { number: Number(row.number), body: row.body, created_at: iso(row.created_at), updated_at: iso(row.updated_at) };
}
