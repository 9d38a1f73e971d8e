import type { NatsConnection } from 'nats';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Names } from './protocol/subjects.js';
import type { ResourceCache } from './storage/cache.js';
import type { Orm } from './storage/orm.js';

/** What runtime.ts hands to a role that writes or derives state (actors, projections). */
export interface RoleDeps {
  nc: NatsConnection;
  orm: Orm;
  cache: ResourceCache;
  names: Names;
  config: Config;
  log: Logger;
}
