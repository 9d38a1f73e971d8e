import type { FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '../domain/errors.js';
import type { Page, RequestMeta } from '../gateway/chat-service.js';
import { boundPage } from '../protocol/page-bound.js';

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

/**
 * A path number (`:number`, `:mnumber`): digits (the schema's pattern) within the safe integer range; a larger one
 * would be rounded by JavaScript and name another resource, so it is a 400, not a lookup.
 */
export function pathNumber(raw: string, name: string): number {
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(n)) throw ValidationError.field(`params.${name}`, 'must be an integer from 0 to 9007199254740991');
  return n;
}

export function parseAfterNumber(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const after = Number(raw);
  if (!Number.isSafeInteger(after) || after < 0) throw ValidationError.field('after', 'must be a non-negative integer');
  return after;
}

/**
 * Sends a page as a plain array; `Link: <…>; rel="next"` when more items exist. A page whose JSON would pass
 * `maxBytes` stops early (at least one item) and links to the rest.
 */
export function sendPage<T>(request: FastifyRequest, reply: FastifyReply, whole: Page<T>, limit: number, extra: Record<string, string> = {}): FastifyReply {
  const page = boundPage(whole, pageMaxBytesOf(request));
  if (page.next !== undefined) {
    const path = request.url.split('?')[0] ?? '';
    const query = new URLSearchParams({ ...extra, limit: String(limit), after: page.next });
    void reply.header('Link', `<${path}?${query.toString()}>; rel="next"`);
  }
  return reply.send(page.items);
}

const PAGE_MAX_BYTES = Symbol('pageMaxBytes');

/** The app's PAGE_MAX_BYTES, recorded on the instance by `buildApp`. */
export function setPageMaxBytes(target: object, maxBytes: number): void {
  (target as Record<symbol, number>)[PAGE_MAX_BYTES] = maxBytes;
}

function pageMaxBytesOf(request: FastifyRequest): number {
  return (request.server as unknown as Record<symbol, number | undefined>)[PAGE_MAX_BYTES] ?? Number.POSITIVE_INFINITY;
}
