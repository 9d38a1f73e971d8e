import { randomUUID } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import { headers as natsHeaders, type NatsConnection, type Service, type ServiceMsg } from 'nats';
import { ValidationError, internalError, isAppError, type AppError } from '../domain/errors.js';
import { limits } from '../domain/limits.js';
import type { ChatService } from '../gateway/chat-service.js';
import type { Logger } from '../log.js';
import { checkWellFormed, decodeUtf8 } from '../domain/text.js';
import { encodeJson } from '../messaging/nats.js';
import { boundPage } from '../protocol/page-bound.js';
import type { Names } from '../protocol/subjects.js';
import { endpoints, type Endpoint, type PagedResult } from './endpoints.js';

export const SERVICE_NAME = 'chat';
export const SERVICE_VERSION = '1.0.0';

/**
 * The API over NATS request/reply, as a NATS micro service (`$SRV.PING|INFO|STATS` discovery), one endpoint per
 * operation under `<NAMESPACE>.api.v1.`. Same operations, validation and errors as HTTP: an error reply sets
 * `Nats-Service-Error-Code` (HTTP-like status) and `Nats-Service-Error`, with `{ error, message }` as body.
 * Requests may carry an `Idempotency-Key` header.
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
        void handle(msg, endpoint, validate, service, log, pageMaxBytes);
      },
    });
  }
  return svc;
}

/**
 * Bad input is always a 4xx: bytes that are not UTF-8, JSON that is not an object of the endpoint's schema,
 * numbers beyond 2^53-1 and strings with lone surrogates are refused before anything is looked up.
 */
async function handle(msg: ServiceMsg, endpoint: Endpoint, validate: ValidateFunction, service: ChatService, log: Logger, pageMaxBytes: number): Promise<void> {
  try {
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
      scope: `nats ${endpoint.subject} ${JSON.stringify(scopeOf(input as Record<string, unknown>))}`,
      ...(key ? { idempotencyKey: key } : {}),
      requestId: requestIdOf(msg.headers?.get('X-Request-Id')),
    });
    if (isPaged(result)) {
      const page = boundPage(result.page, pageMaxBytes);
      const h = natsHeaders();
      if (page.next !== undefined) h.set('Chat-Next-After', page.next);
      msg.respond(encodeJson(page.items), { headers: h });
    } else {
      msg.respond(encodeJson(result));
    }
  } catch (err) {
    const error: AppError = isAppError(err) ? err : internalError();
    if (!isAppError(err)) log.error({ err, subject: msg.subject }, 'nats api request failed');
    msg.respondError(error.statusCode, error.message, encodeJson(error.toBody()));
  }
}

/** Idempotency scope: the operation and the parent it creates under (not the body). */
function scopeOf(input: Record<string, unknown>): unknown[] {
  return [input['token'] ?? null, input['chat_number'] ?? null, input['message_number'] ?? input['number'] ?? null];
}

/** A sane X-Request-Id header is kept for log correlation; anything else is replaced by a minted id. */
function requestIdOf(incoming: string | undefined): string {
  return incoming !== undefined && /^[A-Za-z0-9._:-]{1,64}$/.test(incoming) ? incoming : randomUUID();
}

function isPaged(result: unknown): result is PagedResult {
  return typeof result === 'object' && result !== null && 'page' in result && Object.keys(result).length === 1;
}
