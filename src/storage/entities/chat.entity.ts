import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { Application } from './application.entity.js';

/** chats (migration 0001): numbered per application. */
export const Chat = defineEntity({
  name: 'Chat',
  tableName: 'chats',
  uniques: [{ properties: ['application', 'number'] }],
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    application: p.manyToOne(Application).ref(),
    number: p.integer().unsigned(),
    name: p.string().length(255).nullable(),
    messagesCount: p.integer().unsigned().default(0),
    commandId: p.string().length(32).unique(),
    version: p.bigint('number'),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3),
  }),
});
export type Chat = InferEntity<typeof Chat>;
