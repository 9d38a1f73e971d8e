/**
 * JSON schemas of every input, shared by the HTTP routes (Fastify validation and OpenAPI) and the NATS
 * service (Ajv). Type coercion is off: a number where a string is expected is a 400, not a guess.
 */
import { limits } from '../domain/limits.js';

const nonBlank = '\\S';

export const fields = {
  token: { type: 'string', minLength: 1, maxLength: 64, description: 'Application token' },
  /** Path numbers arrive as strings over HTTP. */
  pathNumber: { type: 'string', pattern: '^[0-9]{1,16}$', description: 'A positive integer' },
  /** NATS numbers: a JSON number beyond 2^53-1 is rounded by JavaScript (or Infinity), so it is refused, never looked up. */
  number: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'A positive integer' },
  afterNumber: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Exclusive cursor: the last number seen' },
  applicationName: { type: 'string', minLength: 1, maxLength: limits.applicationNameMax, pattern: nonBlank },
  chatName: { type: ['string', 'null'], maxLength: limits.chatNameMax },
  messageBody: { type: 'string', minLength: 1, maxLength: limits.messageBodyMax, pattern: nonBlank },
  limitQuery: { type: 'string', pattern: '^[0-9]{1,5}$', description: `Page size, 1 to ${limits.listLimitMax}` },
  afterNumberQuery: { type: 'string', pattern: '^[0-9]{1,16}$', description: 'Exclusive cursor: the last number seen' },
  afterCursorQuery: { type: 'string', minLength: 1, maxLength: 200, description: 'Opaque cursor from the previous page\'s Link header' },
  searchQuery: { type: 'string', minLength: 1, maxLength: limits.searchQueryMax, description: 'Literal, case-insensitive substring' },
} as const;

export const bodies = {
  applicationCreate: { type: 'object', required: ['name'], properties: { name: fields.applicationName } },
  applicationUpdate: { type: 'object', required: ['name'], properties: { name: fields.applicationName } },
  chatCreate: { type: 'object', properties: { name: fields.chatName } },
  chatUpdate: { type: 'object', required: ['name'], properties: { name: fields.chatName } },
  messageCreate: { type: 'object', required: ['body'], properties: { body: fields.messageBody } },
  messageUpdate: { type: 'object', required: ['body'], properties: { body: fields.messageBody } },
} as const;

export const resources = {
  application: {
    type: 'object',
    properties: {
      token: { type: 'string' }, name: { type: 'string' }, chats_count: { type: 'integer' },
      created_at: { type: 'string', format: 'date-time' }, updated_at: { type: 'string', format: 'date-time' },
    },
    required: ['token', 'name', 'chats_count', 'created_at', 'updated_at'],
  },
  chat: {
    type: 'object',
    properties: {
      number: { type: 'integer' }, name: { type: ['string', 'null'] }, messages_count: { type: 'integer' },
      created_at: { type: 'string', format: 'date-time' }, updated_at: { type: 'string', format: 'date-time' },
    },
    required: ['number', 'name', 'messages_count', 'created_at', 'updated_at'],
  },
  message: {
    type: 'object',
    properties: {
      number: { type: 'integer' }, body: { type: 'string' },
      created_at: { type: 'string', format: 'date-time' }, updated_at: { type: 'string', format: 'date-time' },
    },
    required: ['number', 'body', 'created_at', 'updated_at'],
  },
  error: {
    type: 'object',
    properties: { error: { type: 'string' }, message: { type: 'string' } },
    required: ['error', 'message'],
  },
} as const;
