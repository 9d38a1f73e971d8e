import { BigIntType, EntitySchema, type Ref } from '@mikro-orm/core';
import { Application } from './application.entity.js';

export class Chat {
  id!: number;
  application!: Ref<Application>;
  number!: number;
  name!: string | null;
  messagesCount = 0;
  commandId!: string;
  version!: number;
  createdAt!: Date;
  updatedAt!: Date;
}

export const ChatSchema = new EntitySchema<Chat>({
  class: Chat,
  tableName: 'chats',
  uniques: [{ properties: ['application', 'number'] }],
  properties: {
    id: { type: new BigIntType('number'), primary: true, autoincrement: true },
    application: { kind: 'm:1', entity: () => Application, ref: true },
    number: { type: 'integer', unsigned: true },
    name: { type: 'string', length: 255, nullable: true },
    messagesCount: { type: 'integer', unsigned: true, default: 0 },
    commandId: { type: 'string', length: 32, unique: true },
    version: { type: new BigIntType('number') },
    createdAt: { type: 'datetime', length: 3 },
    updatedAt: { type: 'datetime', length: 3 },
  },
});
