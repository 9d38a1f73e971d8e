import { Migration0001InitialSchema } from './0001-initial-schema.js';
import { Migration0002CommandStreams } from './0002-command-streams.js';

/** Every migration, in order. Listed explicitly so the built image needs no file discovery. */
export const migrationsList = [
  { name: '0001-initial-schema', class: Migration0001InitialSchema },
  { name: '0002-command-streams', class: Migration0002CommandStreams },
];
