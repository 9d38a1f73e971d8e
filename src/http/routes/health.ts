import type { FastifyInstance } from 'fastify';

export type ReadinessCheck = () => Promise<Record<string, boolean>>;

/** `/health/live`: the process runs. `/health/ready`: its dependencies answer and migrations are done. */
export function healthRoutes(app: FastifyInstance, ready: ReadinessCheck): void {
  app.get('/health/live', { schema: { tags: ['health'], summary: 'Liveness' }, logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { tags: ['health'], summary: 'Readiness' }, logLevel: 'warn' }, async (_request, reply) => {
    const checks = await ready();
    const ok = Object.values(checks).every(Boolean);
    if (!ok) void reply.code(503).header('Retry-After', '1');
    return { status: ok ? 'ready' : 'unavailable', checks };
  });
}
