import { randomUUID } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import { headers as natsHeaders, type NatsConnection, type Service, type ServiceMsg } from 'nats';
import { ValidationError, internalError, isAppError, type AppError } from '../domain/errors.js';
import { limits } from '../domain/limits.js';
import { bearerCredential } from '../domain/operator.js';
import type { ChatService } from '../gateway/chat-service.js';
import type { Logger } from '../log.js';
import { checkWellFormed, decodeUtf8 } from '../domain/text.js';
import { encodeJson } from '../messaging/nats.js';
import { boundPage } from '../protocol/page-bound.js';
import type { Names } from '../protocol/subjects.js';
import { endpoints, type Endpoint, type PagedResult } from './endpoints.js';

const SERVICE_NAME = 'chat';
const SERVICE_VERSION = '1.0.0';

/**
 * The API over NATS request/reply, as a NATS micro service (`$SRV.PING|INFO|STATS` discovery), one endpoint per
 * operation under `<NAMESPACE>.api.v1.`. Same operations, validation and errors as HTTP: an error reply sets
 * `Nats-Service-Error-Code` (HTTP-like status) and `Nats-Service-Error`, with `{ error, message }` as body.
 * Requests may carry an `Idempotency-Key` header; `applications.list` needs `Authorization: Bearer <ADMIN_API_KEY>`.
 */
export interface NatsApiOptions {
  /** PAGE_MAX_BYTES: largest JSON reply of a list or search page. */
  pageMaxBytes?: number;
}

export async function startNatsApi(nc: NatsConnection, names: Names, service: ChatService, log: Logger, opts: NatsApiOptions = {}): Promise<Service> {
  const pageMaxBytes = opts.pageMaxBytes ?? Number.POSITIVE_INFINITY;
  const ajv = new Ajv({ coerceTypes: false, allErrors: false, strict: false });
  const svc = await nc.services.add({
    name: SERVICE_NAME,
    version: SERVICE_VERSION,
    description: 'Chat service API (applications, chats, messages)',
    metadata: { namespace: names.apiPrefix },
  });
  for (const endpoint of endpoints) {
    const validate = ajv.compile(endpoint.schema);
    svc.addEndpoint(endpoint.subject.replace('.', '-'), {
      subject: `${names.apiPrefix}.${endpoint.subject}`,
      metadata: { subject: `${names.apiPrefix}.${endpoint.subject}` },
      handler: (err, msg) => {
        if (err) return;
        void handle(nc, msg, endpoint, validate, service, log, pageMaxBytes);
      },
    });
  }
  return svc;
}

/**
 * Bad input is always a 4xx: bytes that are not UTF-8, JSON that is not an object of the endpoint's schema,
 * numbers beyond 2^53-1 and strings with lone surrogates are refused before anything is looked up.
 */
async function handle(nc: NatsConnection, msg: ServiceMsg, endpoint: Endpoint, validate: ValidateFunction, service: ChatService, log: Logger, pageMaxBytes: number): Promise<void> {
  try {
    const credential = bearerCredential(msg.headers?.get('Authorization') || undefined);
    if (endpoint.operatorOnly) service.authorizeOperator(credential);
    let input: unknown;
    const text = decodeUtf8(msg.data, 'request');
    try {
      input = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new ValidationError('request is not valid JSON', 'malformed_json');
    }
    checkWellFormed(input, 'request');
    if (!validate(input)) {
      const first = validate.errors?.[0];
      const field = first?.instancePath.replace(/^\//, '') || (first?.params as { missingProperty?: string })?.missingProperty || 'request';
      throw ValidationError.field(field, first?.keyword === 'required' ? 'is required' : first?.message ?? 'is invalid');
    }
    const key = msg.headers?.get('Idempotency-Key') || undefined;
    if (key !== undefined && key.length > limits.idempotencyKeyMax) throw ValidationError.field('Idempotency-Key', `must be at most ${limits.idempotencyKeyMax} characters`);
    const result = await endpoint.run(service, input as Record<string, unknown>, {
      operation: `nats ${endpoint.subject}`,
      ...(key ? { idempotencyKey: key } : {}),
      ...(credential !== undefined ? { credential } : {}),
      requestId: requestIdOf(msg.headers?.get('X-Request-Id')),
    });
    const room = replyRoom(nc);
    if (isPaged(result)) {
      // PAGE_MAX_BYTES first (lists and search of numbered resources), then whatever still fits max_payload
      const bounded = boundPage(result.page, pageMaxBytes);
      const { body, next } = fitPage({ page: bounded, cursor: result.cursor }, room);
      const h = natsHeaders();
      if (next !== undefined) h.set('Chat-Next-After', next);
      msg.respond(body, { headers: h });
    } else {
      const body = encodeJson(result);
      if (body.length > room) throw tooLarge(room);
      msg.respond(body);
    }
  } catch (err) {
    const error: AppError = isAppError(err) ? err : internalError();
    if (!isAppError(err)) log.error({ err, subject: msg.subject }, 'nats api request failed');
    msg.respondError(error.statusCode, error.message, encodeJson(error.toBody()));
  }
}

function isPaged(result: unknown): result is PagedResult {
  return typeof result === 'object' && result !== null && 'page' in result && typeof (result as { cursor?: unknown }).cursor === 'function';
}

/** Room left for a reply's payload under the server's max_payload (headers, subject and framing take the rest). */
const HEADROOM_BYTES = 4096;
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

function replyRoom(nc: NatsConnection): number {
  return Math.max(1024, (nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - HEADROOM_BYTES);
}

function tooLarge(room: number): AppError {
  return new ValidationError(
    `the reply would exceed the NATS server's max_payload (about ${room} bytes for the payload); ask for fewer items with a lower "limit"`,
    'payload_too_large',
    413,
  );
}

/**
 * A page is cut by bytes as well as by `limit`: it holds as many items as fit in the server's max_payload, and
 * `Chat-Next-After` then points right after the last item sent, so the caller simply reads on. Only an item
 * larger than max_payload on its own is refused (413: payload_too_large).
 */
export function fitPage(result: PagedResult, room: number): { body: Uint8Array; next?: string } {
  const { items, next } = result.page;
  const whole = encodeJson(items);
  if (whole.length <= room) return next === undefined ? { body: whole } : { body: whole, next };
  const parts: Uint8Array[] = [];
  let size = 2; // [ and ]
  for (const item of items) {
    const part = encodeJson(item);
    const added = part.length + (parts.length > 0 ? 1 : 0);
    if (size + added > room) break;
    parts.push(part);
    size += added;
  }
  if (parts.length === 0) throw tooLarge(room);
  const body = new Uint8Array(size);
  let at = 0;
  body[at++] = 0x5b; // [
  parts.forEach((part, i) => {
    if (i > 0) body[at++] = 0x2c; // ,
    body.set(part, at);
    at += part.length;
  });
  body[at] = 0x5d; // ]
  return { body, next: result.cursor(items[parts.length - 1]) };
}

/** A sane X-Request-Id header is kept for log correlation; anything else is replaced by a minted id. */
function requestIdOf(incoming: string | undefined): string {
  return incoming !== undefined && /^[A-Za-z0-9._:-]{1,64}$/.test(incoming) ? incoming : randomUUID();
}
