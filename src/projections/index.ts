import type { NatsConnection } from 'nats';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Names } from '../protocol/subjects.js';
import type { ResourceCache } from '../storage/cache.js';
import type { Orm } from '../storage/orm.js';

export interface ProjectionDeps {
  nc: NatsConnection;
  orm: Orm;
  cache: ResourceCache;
  names: Names;
  config: Config;
  log: Logger;
}

export interface Projections {
  stop(): Promise<void>;
}

/** The `projections` role: consumers of the EVENTS stream that keep derived state (search index, counters). */
export async function startProjections(deps: ProjectionDeps): Promise<Projections> {
  deps.log.child({ role: 'projections' }).info('projections role has no projection yet');
  return { stop: async () => undefined };
}
