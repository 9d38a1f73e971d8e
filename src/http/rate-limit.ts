import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { TooManyRequestsError } from '../domain/errors.js';

export interface RateLimitOptions {
  /** Shared counters (every api process counts in the same keys); none = counted in this process only. */
  redis?: Redis;
  namespace: string;
  windowMs: number;
  perAddress: number;
  perApplication: number;
}

/** The token a request names (`/applications/<token>…`), when it looks like one. */
function tokenOf(request: FastifyRequest): string | undefined {
  const match = /^\/+applications\/+([A-Za-z0-9_-]{1,64})(?:[/?]|$)/.exec(request.url);
  return match?.[1];
}

/**
 * Rate limits of the API routes (`/applications…`; health, metrics and docs are not limited): one budget per
 * client address and one per application token, fixed windows counted in Redis (`@fastify/rate-limit`'s Redis
 * store), so they hold across api processes. Every API response carries `RateLimit-Limit`, `RateLimit-Remaining`
 * and `RateLimit-Reset` (seconds) of the tighter budget; beyond a budget: 429 `rate_limited` with Retry-After.
 * Redis down: the limits are not enforced (fail open): the service keeps serving from MySQL.
 */
export async function registerRateLimits(app: FastifyInstance, opts: RateLimitOptions): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    skipOnError: true,
    timeWindow: opts.windowMs,
    nameSpace: `${opts.namespace}:rl:`,
    ...(opts.redis ? { redis: opts.redis } : {}),
  });
  const windowSeconds = Math.ceil(opts.windowMs / 1000);
  const byAddress = app.createRateLimit({ max: opts.perAddress, timeWindow: opts.windowMs, keyGenerator: (req) => `ip:${req.ip}` });
  const byApplication = app.createRateLimit({ max: opts.perApplication, timeWindow: opts.windowMs, keyGenerator: (req) => `app:${tokenOf(req) ?? ''}` });

  app.addHook('onRequest', async (request, reply) => {
    if (!/^\/+applications(?:[/?]|$)/.test(request.url)) return;
    const checks = [{ what: 'client address', result: await byAddress(request) }];
    if (tokenOf(request) !== undefined) checks.push({ what: 'application', result: await byApplication(request) });
    // with Redis unreachable the counts are unknown (NaN): no headers, no limit
    const counted = checks.flatMap(({ what, result }) => (!result.isAllowed && Number.isFinite(result.remaining) ? [{ what, result }] : []));
    if (counted.length === 0) return;
    const tightest = counted.reduce((a, b) => (b.result.isExceeded && !a.result.isExceeded) || b.result.remaining < a.result.remaining ? b : a);
    const { max, remaining, ttlInSeconds, isExceeded } = tightest.result;
    const reset = Math.max(1, ttlInSeconds || windowSeconds);
    void reply.header('RateLimit-Limit', String(max)).header('RateLimit-Remaining', String(Math.max(0, remaining))).header('RateLimit-Reset', String(reset));
    if (isExceeded) {
      throw new TooManyRequestsError(`rate limit of this ${tightest.what} exceeded (${max} requests per ${windowSeconds} s); retry after ${reset} s`, reset);
    }
  });
}
