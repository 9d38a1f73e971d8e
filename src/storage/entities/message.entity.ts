import { BigIntType, EntitySchema, type Ref } from '@mikro-orm/core';
import { Chat } from './chat.entity.js';

export class Message {
  id!: number;
  chat!: Ref<Chat>;
  number!: number;
  body!: string;
  commandId!: string;
  version!: number;
  createdAt!: Date;
  updatedAt!: Date;
}

export const MessageSchema = new EntitySchema<Message>({
  class: Message,
  tableName: 'messages',
  uniques: [{ properties: ['chat', 'number'] }],
  properties: {
    id: { type: new BigIntType('number'), primary: true, autoincrement: true },
    chat: { kind: 'm:1', entity: () => Chat, ref: true },
    number: { type: 'integer', unsigned: true },
    body: { type: 'text', columnType: 'mediumtext' },
    commandId: { type: 'string', length: 32, unique: true },
    version: { type: new BigIntType('number') },
    createdAt: { type: 'datetime', length: 3 },
    updatedAt: { type: 'datetime', length: 3 },
  },
});
