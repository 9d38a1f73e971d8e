import { defineEntity, type InferEntity } from '@mikro-orm/core';

/** applications (migration 0001). */
export const Application = defineEntity({
  name: 'Application',
  tableName: 'applications',
  properties: (p) => ({
    id: p.bigint('number').primary().autoincrement(),
    token: p.string().length(64).unique(),
    name: p.string().length(255),
    chatsCount: p.integer().unsigned().default(0),
    /** Id of the command that created the row: a redelivered or retried creation finds it instead of creating again. */
    commandId: p.string().columnType('char(32)').unique(),
    /** Commands-stream sequence of the last write applied to this row (monotonic; orders writes for projections). */
    version: p.bigint('number').unsigned(),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3),
  }),
});
export type Application = InferEntity<typeof Application>;
