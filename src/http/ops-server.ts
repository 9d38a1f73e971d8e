import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';
import { registerErrorHandling } from './error-handler.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { metricsRoutes, type MetricsExposition } from './routes/metrics.js';

export interface OpsServerOptions {
  log: Logger;
  ready: ReadinessCheck;
  metrics: MetricsExposition;
}

/**
 * The operations listener of processes without the api role (actors, projections): `/health/live`,
 * `/health/ready` (same semantics as the api's) and `/metrics`, nothing else. An api process serves the same
 * three routes on PORT. Built apart from listen, like the app.
 */
export async function buildOpsServer(opts: OpsServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: opts.log as FastifyBaseLogger, return503OnClosing: true, forceCloseConnections: true });
  registerErrorHandling(app);
  healthRoutes(app, opts.ready);
  metricsRoutes(app, opts.metrics);
  await app.ready();
  return app;
}
