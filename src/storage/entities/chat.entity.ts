import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { Application } from './application.entity.js';

/** chats (migration 0001): numbered per application. `application` holds the application's id (`mapToPk`), as `Message.chat` does. */
export const Chat = defineEntity({
  name: 'Chat',
  tableName: 'chats',
  uniques: [{ properties: ['application', 'number'] }],
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    application: p.manyToOne(Application).mapToPk().updateRule('restrict').index(false),
    number: p.integer().unsigned(),
    // MariaDB reports a nullable column's default as the text NULL, which the MySQL driver's schema diff reads as a change
    name: p.string().length(255).nullable().ignoreSchemaChanges('default'),
    messagesCount: p.integer().unsigned().default(0),
    commandId: p.string().columnType('char(32)').unique(),
    version: p.bigint('number').unsigned(),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3),
  }),
});
export type Chat = InferEntity<typeof Chat>;
