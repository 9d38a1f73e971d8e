import { limits } from '../../domain/limits.js';
import { fields, resources } from '../../protocol/schemas.js';

const errorResponse = (description: string) => ({ ...resources.error, description });

const readErrors = {
  400: errorResponse('`validation_error`: a path number that is not an integer (or beyond 2^53-1), a bad query parameter (limit, after, query; percent-encoding that is not UTF-8), a request that is not valid HTTP'),
  404: errorResponse('`not_found`: unknown application token, chat or message'),
  429: errorResponse('`rate_limited`: over the rate limit of the client address or of the application (RATE_LIMIT_*), or too many searches of the application at once; see Retry-After and RateLimit-*'),
  431: errorResponse('`headers_too_large`: the request headers are over the server\'s limit (16 KiB)'),
  500: errorResponse('`internal_error`: a bug (never for bad input)'),
  503: errorResponse('`unavailable`: a dependency (MySQL, search engine) is down; see Retry-After'),
} as const;

/** Error responses of the routes, for serialisation and OpenAPI (see docs/API.md "Errors"). */
export const errorResponses = {
  read: readErrors,
  write: {
    ...readErrors,
    400: errorResponse('`validation_error`: wrong types, missing or empty required fields, values over the limits, a bad path number, bytes that are not UTF-8, a string with a lone surrogate; `malformed_json`: the body is not JSON'),
    413: errorResponse('`payload_too_large`: the body is over BODY_LIMIT_BYTES (1 MiB)'),
    415: errorResponse('`unsupported_media_type`: a non-empty body that is not JSON, a charset other than UTF-8, or a Content-Encoding other than identity (bodies are not decompressed)'),
    422: errorResponse('`idempotency_key_reused`: the Idempotency-Key was first used with a different request (method, path or body)'),
    503: errorResponse('`unavailable`: NATS or MySQL is down; `timeout`: the write was not confirmed in COMMAND_TIMEOUT_MS. Retry after Retry-After with the same Idempotency-Key'),
  },
  operator: {
    429: readErrors[429],
    431: readErrors[431],
    500: readErrors[500],
    503: readErrors[503],
    400: errorResponse('`validation_error`: a bad limit, or an `after` that is not a cursor this service issued'),
    401: errorResponse('`unauthorized`: no operator credential (Authorization: Bearer <ADMIN_API_KEY>)'),
    403: errorResponse('`forbidden`: a wrong operator credential, or no ADMIN_API_KEY configured (the listing is disabled)'),
  },
} as const;

export const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string', minLength: 1, maxLength: limits.idempotencyKeyMax,
      description: 'Makes the request safe to retry: a retry with the same key and the same request (method, path, body) returns the first attempt\'s outcome (same status, same number) without acting again; the same key with a different request is a 422. Keys are scoped to the application of the path and remembered for IDEMPOTENCY_TTL_SECONDS (24 h).',
    },
  },
} as const;

/** A path token of any length is just a token that does not exist (404 from the service), not a 400. */
const token = { type: 'string', minLength: 1, description: fields.token.description } as const;

export const params = {
  application: { type: 'object', required: ['token'], properties: { token } },
  chat: { type: 'object', required: ['token', 'number'], properties: { token, number: fields.pathNumber } },
  message: { type: 'object', required: ['token', 'number', 'mnumber'], properties: { token, number: fields.pathNumber, mnumber: fields.pathNumber } },
} as const;

export const listQuery = {
  numbers: { type: 'object', properties: { limit: fields.limitQuery, after: fields.afterNumberQuery } },
  cursor: { type: 'object', properties: { limit: fields.limitQuery, after: fields.afterCursorQuery } },
} as const;

export interface TokenParams { token: string }
export interface ChatParams { token: string; number: string }
export interface MessageParams { token: string; number: string; mnumber: string }
export interface ListQuery { limit?: string; after?: string }
