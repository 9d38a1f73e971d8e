import type { FastifyInstance } from 'fastify';

/** What `/metrics` serves: the Prometheus text exposition (src/observability/metrics.ts implements it). */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

/** Prometheus metrics; not part of the API (hidden from the OpenAPI spec). */
export function metricsRoutes(app: FastifyInstance, metrics: MetricsExposition): void {
  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });
}
