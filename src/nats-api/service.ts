import { randomUUID } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import { headers as natsHeaders, type NatsConnection, type Service, type ServiceMsg } from 'nats';
import { ValidationError, internalError, isAppError, type AppError } from '../domain/errors.js';
import { limits } from '../domain/limits.js';
import { bearerCredential } from '../domain/operator.js';
import type { ChatService } from '../gateway/chat-service.js';
import type { Logger } from '../log.js';
import { decodeJson, encodeJson } from '../messaging/nats.js';
import type { Names } from '../protocol/subjects.js';
import { endpoints, type Endpoint, type PagedResult } from './endpoints.js';

export const SERVICE_NAME = 'chat';
export const SERVICE_VERSION = '1.0.0';

/**
 * The API over NATS request/reply, as a NATS micro service (`$SRV.PING|INFO|STATS` discovery), one endpoint per
 * operation under `<NAMESPACE>.api.v1.`. Same operations, validation and errors as HTTP: an error reply sets
 * `Nats-Service-Error-Code` (HTTP-like status) and `Nats-Service-Error`, with `{ error, message }` as body.
 * Requests may carry an `Idempotency-Key` header; `applications.list` needs `Authorization: Bearer <ADMIN_API_KEY>`.
 */
export async function startNatsApi(nc: NatsConnection, names: Names, service: ChatService, log: Logger): Promise<Service> {
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
        void handle(msg, endpoint, validate, service, log);
      },
    });
  }
  return svc;
}

async function handle(msg: ServiceMsg, endpoint: Endpoint, validate: ValidateFunction, service: ChatService, log: Logger): Promise<void> {
  try {
    const credential = bearerCredential(msg.headers?.get('Authorization') || undefined);
    if (endpoint.operatorOnly) service.authorizeOperator(credential);
    let input: unknown;
    try {
      input = msg.data.length === 0 ? {} : decodeJson(msg.data);
    } catch {
      throw new ValidationError('request is not valid JSON', 'malformed_json');
    }
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
      requestId: msg.headers?.get('X-Request-Id') || randomUUID(),
    });
    if (isPaged(result)) {
      const h = natsHeaders();
      if (result.page.next !== undefined) h.set('Chat-Next-After', result.page.next);
      msg.respond(encodeJson(result.page.items), { headers: h });
    } else {
      msg.respond(encodeJson(result));
    }
  } catch (err) {
    const error: AppError = isAppError(err) ? err : internalError();
    if (!isAppError(err)) log.error({ err, subject: msg.subject }, 'nats api request failed');
    msg.respondError(error.statusCode, error.message, encodeJson(error.toBody()));
  }
}

function isPaged(result: unknown): result is PagedResult {
  return typeof result === 'object' && result !== null && 'page' in result && Object.keys(result).length === 1;
}
