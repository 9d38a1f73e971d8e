import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { Chat } from './chat.entity.js';

/** messages (migration 0001): numbered per chat. */
export const Message = defineEntity({
  name: 'Message',
  tableName: 'messages',
  uniques: [{ properties: ['chat', 'number'] }],
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    chat: p.manyToOne(Chat).ref().updateRule('restrict').index(false),
    number: p.integer().unsigned(),
    body: p.text().columnType('mediumtext'),
    commandId: p.string().columnType('char(32)').unique(),
    version: p.bigint('number').unsigned(),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3),
  }),
});
export type Message = InferEntity<typeof Message>;
