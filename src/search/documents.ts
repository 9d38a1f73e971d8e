import type { MessageEventData } from '../protocol/events.js';
import type { MessageResource } from '../protocol/resources.js';

/** A message as stored in the index (see `mappings`). */
export interface MessageDocument {
  chat: string;
  number: number;
  body: string;
  body_lc: string;
  created_at: string;
  updated_at: string;
}

/** What one write of a message puts in the index: id, routing, external version and document. */
export interface IndexedMessage {
  id: string;
  routing: string;
  version: number;
  doc: MessageDocument;
}

/** The searchable form of a text: lower-cased exactly like docs/API.md (`toLowerCase()`). */
export function searchForm(text: string): string {
  return text.toLowerCase();
}

export const chatKey = (token: string, chatNumber: number): string => `${token}:${chatNumber}`;

export function indexedMessage(m: Omit<MessageEventData, 'version'> & { version: number | string }): IndexedMessage {
  const chat = chatKey(m.token, m.chat_number);
  return {
    id: `${chat}:${m.number}`,
    routing: chat,
    version: Number(m.version),
    doc: { chat, number: m.number, body: m.body, body_lc: searchForm(m.body), created_at: m.created_at, updated_at: m.updated_at },
  };
}

export function resourceOf(doc: Pick<MessageDocument, 'number' | 'body' | 'created_at' | 'updated_at'>): MessageResource {
  return { number: Number(doc.number), body: doc.body, created_at: doc.created_at, updated_at: doc.updated_at };
}
