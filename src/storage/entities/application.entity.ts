import { BigIntType, EntitySchema } from '@mikro-orm/core';

export class Application {
  id!: number;
  token!: string;
  name!: string;
  chatsCount = 0;
  /** Id of the command that created the row: a redelivered or retried creation finds it instead of creating again. */
  commandId!: string;
  /** Commands-stream sequence of the last write applied to this row (monotonic; orders writes for projections). */
  version!: number;
  createdAt!: Date;
  updatedAt!: Date;
}

export const ApplicationSchema = new EntitySchema<Application>({
  class: Application,
  tableName: 'applications',
  properties: {
    id: { type: new BigIntType('number'), primary: true, autoincrement: true },
    token: { type: 'string', length: 64, unique: true },
    name: { type: 'string', length: 255 },
    chatsCount: { type: 'integer', unsigned: true, default: 0 },
    commandId: { type: 'string', length: 32, unique: true },
    version: { type: new BigIntType('number') },
    createdAt: { type: 'datetime', length: 3 },
    updatedAt: { type: 'datetime', length: 3 },
  },
});
