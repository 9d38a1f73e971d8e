import { BigIntType, EntitySchema } from '@mikro-orm/core';

/**
 * One row per command partition. A process that wins a partition's lease bumps `epoch`; every
 * group commit checks, in its own transaction, that the epoch is still its own — so a paused or
 * partitioned former owner can never commit after the new owner started.
 */
export class PartitionFence {
  partitionNo!: number;
  epoch!: number;
  owner!: string;
  updatedAt!: Date;
}

export const PartitionFenceSchema = new EntitySchema<PartitionFence>({
  class: PartitionFence,
  tableName: 'partition_fences',
  properties: {
    partitionNo: { type: 'integer', unsigned: true, primary: true, autoincrement: false },
    epoch: { type: new BigIntType('number') },
    owner: { type: 'string', length: 128 },
    updatedAt: { type: 'datetime', length: 3 },
  },
});
