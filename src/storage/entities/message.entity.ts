import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { Chat } from './chat.entity.js';

/**
 * messages (migration 0001): numbered per chat. `chat` holds the chat's id (`mapToPk`), not an entity: a write names its
 * chat by id, and building a reference entity for each message spread over many chats cost more than the message's own
 * entity (bench/HISTORY.md). The column is still a foreign key to chats.
 */
export const Message = defineEntity({
  name: 'Message',
  tableName: 'messages',
  uniques: [{ properties: ['chat', 'number'] }],
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    chat: p.manyToOne(Chat).mapToPk().updateRule('restrict').index(false),
    number: p.integer().unsigned(),
    body: p.text().columnType('mediumtext'),
    commandId: p.string().columnType('char(32)').unique(),
    version: p.bigint('number').unsigned(),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3),
  }),
});
export type Message = InferEntity<typeof Message>;
