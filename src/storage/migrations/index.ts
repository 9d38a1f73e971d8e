import { Migration0001InitialSchema } from './0001-initial-schema.js';

/** Every migration, in order. Listed explicitly so the built image needs no file discovery. */
export const migrationsList = [
  { name: '0001-initial-schema', class: Migration0001InitialSchema },
];
