import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { AppError, MethodNotAllowedError, ValidationError, type ErrorBody } from '../domain/errors.js';
import { hasLoneSurrogate } from '../domain/text.js';

/** helmet's defaults (nosniff, frame denial, referrer policy…) with a CSP that Swagger UI (`/docs`) works under. */
const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      'default-src': ["'self'"],
      'base-uri': ["'self'"],
      'connect-src': ["'self'"],
      'font-src': ["'self'", 'data:'],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
      'img-src': ["'self'", 'data:'],
      'object-src': ["'none'"],
      'script-src': ["'self'"],
      'script-src-attr': ["'none'"],
      'style-src': ["'self'", "'unsafe-inline'"],
    },
  },
  frameguard: { action: 'deny' },
  // plain HTTP behind a TLS-terminating proxy is the deployment: HSTS is the proxy's business
  strictTransportSecurity: false,
};

/**
 * The headers helmet sets for `options`, computed once: they do not depend on the request, and building
 * helmet's middleware per request (what @fastify/helmet does) parses the CSP again for every response.
 */
export function securityHeaders(options: HelmetOptions = HELMET_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let done = false;
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously');
  return headers;
}

/**
 * Response headers for a JSON API that also serves Swagger UI (`/docs`): helmet's (see `securityHeaders`),
 * `Cache-Control: no-store` on every response that does not set its own (responses carry tokens), and CORS
 * for the origins of `CORS_ORIGINS` only (none by default).
 */
export async function registerSecurityHeaders(app: FastifyInstance, corsOrigins: readonly string[]): Promise<void> {
  const headers = securityHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
  await app.register(cors, {
    origin: [...corsOrigins],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH'],
    allowedHeaders: ['Content-Type', 'Authorization', 'Idempotency-Key', 'X-Request-Id'],
    exposedHeaders: ['Link', 'Retry-After', 'X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'],
    maxAge: 600,
    // a bare OPTIONS is answered (204, no Access-Control-* headers) instead of a plain-text 400
    strictPreflight: false,
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) void reply.header('Cache-Control', 'no-store');
    done(null, payload);
  });
}

/**
 * 405 for a known path asked with a method it does not serve: the route table is collected as routes are added
 * (register this before them) and the not-found handler asks `allowed(path)`.
 */
export function collectRoutes(app: FastifyInstance): (path: string) => string[] {
  const routes: Array<{ pattern: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route) => {
    if (route.url === '*' || route.url === '/*') return; // CORS preflight catch-all
    const source = route.url.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
    routes.push({ pattern: new RegExp(`^${source}/?$`), methods: ([] as string[]).concat(route.method) });
  });
  return (path) => {
    const allowed = new Set<string>();
    for (const route of routes) if (route.pattern.test(path)) for (const m of route.methods) allowed.add(m);
    return [...allowed].sort();
  };
}

export function methodNotAllowed(request: FastifyRequest, allowed: (path: string) => string[]): MethodNotAllowedError | undefined {
  let path = request.url.split('?')[0] ?? '';
  try {
    path = decodeURI(path);
  } catch {
    // keep it encoded
  }
  const allow = allowed(path);
  return allow.length > 0 && !allow.includes(request.method) ? new MethodNotAllowedError(request.method.slice(0, 20), allow) : undefined;
}

/**
 * Query and path parameters that are not well-formed text are a 400 (bodies are checked by the JSON parser): a
 * query string whose percent-encoding is not UTF-8 (`%E9`, `%ED%A0%80`; the parser would keep it undecoded and
 * search for the escape itself), or a value holding a lone surrogate.
 */
export function registerWellFormedInput(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const q = request.url.indexOf('?');
    if (q >= 0) {
      for (const part of request.url.slice(q + 1).split('&')) {
        try {
          decodeURIComponent(part.replace(/\+/g, ' '));
        } catch {
          throw new ValidationError('the query string is not valid percent-encoded UTF-8');
        }
      }
    }
    for (const [part, values] of [['query', request.query], ['path', request.params]] as const) {
      if (typeof values !== 'object' || values === null) continue;
      for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
        const texts = Array.isArray(value) ? value : [value];
        if (hasLoneSurrogate(key) || texts.some((t) => typeof t === 'string' && hasLoneSurrogate(t))) {
          throw ValidationError.field(`${part}.${key}`, 'contains a lone surrogate (not well-formed Unicode)');
        }
      }
    }
  });
}

const reasons: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large' };

/** Why the HTTP parser refused a request, in words (llhttp error codes). */
function clientErrorOf(err: Error & { code?: string }): AppError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('headers_too_large', 431, 'the request headers are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return new AppError('validation_error', 408, 'the request was not received in time');
    case 'HPE_INVALID_METHOD':
      return new ValidationError('the request method is not valid HTTP');
    case 'HPE_INVALID_URL':
      return new ValidationError('the request target is not a valid URL (spaces and control characters must be percent-encoded)');
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return new ValidationError('a request header holds a character HTTP does not allow');
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
      return new ValidationError('Content-Length is missing a value, repeated or conflicting with Transfer-Encoding');
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return new ValidationError('the request\'s chunked encoding is not valid');
    default:
      return new ValidationError('the request is not valid HTTP');
  }
}

/** A raw HTTP response in the API's error shape, for the paths where Fastify has no request (the parser refused it). */
function rawErrorResponse(status: number, body: ErrorBody, requestId: string): string {
  const json = JSON.stringify(body);
  return `HTTP/1.1 ${status} ${reasons[status] ?? 'Error'}\r\n`
    + 'Content-Type: application/json; charset=utf-8\r\n'
    + `Content-Length: ${Buffer.byteLength(json)}\r\n`
    + `X-Request-Id: ${requestId}\r\n`
    + 'X-Content-Type-Options: nosniff\r\n'
    + 'Cache-Control: no-store\r\n'
    + 'Connection: close\r\n\r\n'
    + json;
}

/**
 * Fastify's `clientErrorHandler`: requests the HTTP parser refuses (raw space in the URL, unknown method, control
 * character in a header, duplicate Content-Length, headers over the limit) get the API's error shape and an
 * X-Request-Id, then the connection is closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  const inProgress = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const error = clientErrorOf(err);
  socket.end(rawErrorResponse(error.statusCode, error.toBody(), randomUUID()));
}

/**
 * `Expect` other than `100-continue` (Node answers an empty 417 on its own): a 417 in the API's error shape. The
 * request never reaches Fastify, so its id is the one sent (when sane) or a minted one.
 */
export function handleExpectations(server: Server, requestId: (incoming: unknown) => string): void {
  server.on('checkExpectation', (req, res) => {
    const body = JSON.stringify({ error: 'expectation_failed', message: `Expect: ${String(req.headers.expect).slice(0, 60)} is not supported (only 100-continue)` });
    res.writeHead(417, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'X-Request-Id': requestId(req.headers['x-request-id']),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      Connection: 'close',
    });
    res.end(body);
  });
}

/** How long a connection closed with unread request bytes keeps reading (and discarding) them. */
const LINGER_MS = 5000;

/**
 * Lingering close, as nginx does: when a response closes the connection before the request body was read (413,
 * 415 on Content-Encoding…), closing at once while the client is still sending makes its kernel see a reset and
 * throw the response away. So the socket half-closes, keeps reading and discarding what arrives, and is destroyed
 * when the client closes its side, or after LINGER_MS.
 */
export function registerLingeringClose(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    lingerIfClosing(request, reply);
    done(null, payload);
  });
}

function lingerIfClosing(request: FastifyRequest, reply: FastifyReply): void {
  if (request.raw.complete || String(reply.getHeader('connection') ?? '').toLowerCase() !== 'close') return;
  const socket = request.raw.socket as Duplex & { destroySoon?: () => void; lingering?: boolean };
  if (!socket || socket.lingering) return;
  socket.lingering = true;
  socket.destroySoon = function lingeringClose(this: Duplex) {
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    this.once('end', () => this.destroy());
    this.on('data', () => undefined);
    this.end();
    this.resume();
  };
}
