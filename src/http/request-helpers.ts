import type { FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '../domain/errors.js';
import type { Page, RequestMeta } from '../gateway/chat-service.js';

/**
 * The operation (method and route pattern: the path parameters and the body are in the command, which the
 * service fingerprints with it) and the Idempotency-Key.
 */
export function requestMeta(request: FastifyRequest): RequestMeta {
  const key = request.headers['idempotency-key'];
  return {
    operation: `${request.method} ${request.routeOptions.url ?? request.url}`,
    ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
    requestId: request.id,
  };
}

export function parseLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw ValidationError.field('limit', `must be an integer from 1 to ${max}`);
  return limit;
}

export function parseAfterNumber(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const after = Number(raw);
  if (!Number.isSafeInteger(after) || after < 0) throw ValidationError.field('after', 'must be a non-negative integer');
  return after;
}

/** Sends a page as a plain array; `Link: <…>; rel="next"` when more items exist. */
export function sendPage<T>(request: FastifyRequest, reply: FastifyReply, page: Page<T>, limit: number, extra: Record<string, string> = {}): FastifyReply {
  if (page.next !== undefined) {
    const path = request.url.split('?')[0] ?? '';
    const query = new URLSearchParams({ ...extra, limit: String(limit), after: page.next });
    void reply.header('Link', `<${path}?${query.toString()}>; rel="next"`);
  }
  return reply.send(page.items);
}
