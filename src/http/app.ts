import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';
import type { ChatService } from '../gateway/chat-service.js';
import { NotFoundError, UnavailableError, ValidationError } from '../domain/errors.js';
import type { Redis } from 'ioredis';
import { registerErrorHandling, sendError } from './error-handler.js';
import { clientErrorHandler, collectRoutes, handleExpectations, methodNotAllowed, registerLingeringClose, registerSecurityHeaders, registerWellFormedInput } from './hardening.js';
import { registerRateLimits, type RateLimitOptions } from './rate-limit.js';
import { setPageMaxBytes } from './request-helpers.js';
import { registerJsonParser } from './json-parser.js';
import { applicationRoutes } from './routes/applications.js';
import { chatRoutes } from './routes/chats.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { messageRoutes } from './routes/messages.js';
import { liveRoutes, type LiveRouteOptions } from './routes/live.js';
import { consoleRoutes } from './console.js';
import { metricsRoutes, type MetricsExposition } from './routes/metrics.js';
import { registerOpenApi, type OpenApiOptions } from './openapi.js';

/** Prometheus: the exposition for `/metrics`, and one observation per HTTP response. */
interface HttpMetrics extends MetricsExposition {
  observeHttp(method: string, route: string, statusCode: number, seconds: number): void;
}

export interface AppOptions {
  /** The operations; throws UnavailableError until the process has started (routes answer 503 meanwhile). */
  service: () => ChatService;
  log: Logger;
  ready: ReadinessCheck;
  bodyLimit: number;
  /** PAGE_MAX_BYTES: largest JSON body of a list or search page. */
  pageMaxBytes?: number;
  /** `/metrics` and the request duration histogram; none when absent. */
  metrics?: HttpMetrics;
  openApi?: OpenApiOptions;
  /** Rate limits of the API routes; none = not limited (RATE_LIMIT=off). */
  rateLimit?: Omit<RateLimitOptions, 'redis'> & { redis?: Redis };
  /** Origins allowed by CORS (none by default). */
  corsOrigins?: readonly string[];
  /** Fastify's `trustProxy`: whose X-Forwarded-For gives the client address. */
  trustProxy?: boolean | string[];
  /** The live message streams (SSE, src/live/); 503 when absent. */
  live?: LiveRouteOptions;
}

/** TRUST_PROXY (empty, `true`, or a comma list of addresses/CIDRs) as Fastify's `trustProxy`. */
export function trustProxyOption(raw: string): boolean | string[] {
  const value = raw.trim();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return value.split(',').map((v) => v.trim()).filter(Boolean);
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const requestIdOf = (incoming: unknown): string => (typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID());

/** Builds the HTTP API without listening (tests use `inject`). */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    // honour a sane incoming X-Request-Id, otherwise mint one; it is on every log line of the request
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
    trustProxy: opts.trustProxy ?? false,
    // requests the HTTP parser refuses get the API's error shape too (src/http/hardening.ts)
    clientErrorHandler,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // errors the router raises before any route (bad percent-encoding, an over-long path segment) get the API's
    // error shape too; an over-long segment names nothing that can exist (tokens are short, numbers bounded)
    frameworkErrors: (err, request, reply) => {
      void reply.header('X-Request-Id', request.id);
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendError(reply, new NotFoundError(`no resource at ${request.method} ${request.url.split('?')[0]?.slice(0, 200)}`));
      return sendError(reply, new ValidationError(err.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid (bad percent-encoding?)' : 'bad request'));
    },
  });
  setPageMaxBytes(app, opts.pageMaxBytes ?? Number.POSITIVE_INFINITY);
  handleExpectations(app.server, requestIdOf);
  app.addHook('onSend', async (request, reply) => {
    void reply.header('X-Request-Id', request.id);
  });
  const allowed = collectRoutes(app);
  const metrics = opts.metrics;
  if (metrics) {
    // the route pattern (/applications/:token/chats), never the URL: bounded label values
    app.addHook('onResponse', async (request, reply) => {
      metrics.observeHttp(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    });
  }
  registerJsonParser(app);
  registerErrorHandling(app, (request) => methodNotAllowed(request, allowed));
  registerLingeringClose(app);
  await registerSecurityHeaders(app, opts.corsOrigins ?? []);
  if (opts.rateLimit) await registerRateLimits(app, opts.rateLimit);
  registerWellFormedInput(app);
  await registerOpenApi(app, opts.openApi);
  healthRoutes(app, opts.ready);
  if (metrics) metricsRoutes(app, metrics);
  applicationRoutes(app, opts.service);
  chatRoutes(app, opts.service);
  messageRoutes(app, opts.service);
  liveRoutes(app, opts.service, opts.live ?? { hub: () => { throw UnavailableError.dependency('live streams (not configured)'); }, maxBufferBytes: 1_048_576 });
  consoleRoutes(app);
  await app.ready();
  return app;
}
