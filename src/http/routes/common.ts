import { limits } from '../../domain/limits.js';
import { fields, resources } from '../../protocol/schemas.js';

const errorResponse = { ...resources.error, description: 'Error' };

/** Error responses every route may give, for validation and OpenAPI. */
export const errorResponses = {
  400: errorResponse,
  404: errorResponse,
  415: errorResponse,
  413: errorResponse,
  503: errorResponse,
} as const;

export const idempotencyHeaders = {
  type: 'object',
  properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: limits.idempotencyKeyMax } },
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
