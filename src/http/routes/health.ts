import type { FastifyInstance } from 'fastify';

export type ReadinessCheck = () => Promise<Record<string, boolean>>;

const live = { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] } as const;
const readiness = (description: string) => ({
  description,
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'unavailable'] },
    checks: { type: 'object', additionalProperties: { type: 'boolean' }, description: 'started, mysql, nats, and for the actors role partitions (every owned partition has a running worker)' },
  },
  required: ['status', 'checks'],
}) as const;

/**
 * `/health/live`: the process runs. `/health/ready`: its dependencies answer and migrations are done. Served by
 * the api role on PORT, and by the ops server (OPS_PORT) of processes without the api role.
 */
export function healthRoutes(app: FastifyInstance, ready: ReadinessCheck): void {
  app.get('/health/live', { schema: { tags: ['health'], summary: 'Liveness', response: { 200: { ...live, description: 'The process runs' } } }, logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get('/health/ready', {
    schema: {
      tags: ['health'], summary: 'Readiness (started, MySQL migrated and reachable, NATS connected)',
      response: { 200: readiness('Ready to serve'), 503: readiness('Not ready (starting, or a dependency is down); see Retry-After') },
    },
    logLevel: 'warn',
  }, async (_request, reply) => {
    const checks = await ready();
    const ok = Object.values(checks).every(Boolean);
    if (!ok) void reply.code(503).header('Retry-After', '1');
    return { status: ok ? 'ready' : 'unavailable', checks };
  });
}
