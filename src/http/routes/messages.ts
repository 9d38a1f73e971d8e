import type { FastifyInstance } from 'fastify';
import { limits } from '../../domain/limits.js';
import type { ChatService } from '../../gateway/chat-service.js';
import { bodies, fields, resources } from '../../protocol/schemas.js';
import { readBodylessJson } from '../json-parser.js';
import { parseAfterNumber, parseLimit, pathNumber, requestMeta, sendPage } from '../request-helpers.js';
import { errorResponses, idempotencyHeaders, listQuery, params, type ChatParams, type ListQuery, type MessageParams } from './common.js';

const searchDescription = 'The messages of the chat whose body contains `query` as a literal substring, ignoring case as JavaScript does '
  + '(`body.toLowerCase().includes(query.toLowerCase())`); every character is literal. Ordered by number, paginated like lists '
  + '(`limit` default 50). Eventually consistent: a message is searchable shortly after its 201/200.\n\n'
  + 'Compatibility form (clients written for a server that merges body and query-string parameters): when the query string has '
  + 'no `query`, it is taken from a JSON body of the GET, `{"query": "TEXT"}` or `{"query": {"body": "TEXT"}}`, with the same rules. '
  + 'The query string is the way; the next page\'s Link carries the query in it.';

/** The search text of the compatibility form's body: `{"query": "TEXT"}` or `{"query": {"body": "TEXT"}}`. */
export function searchQueryOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const query = (body as Record<string, unknown>)['query'];
  if (typeof query === 'string') return query;
  if (typeof query === 'object' && query !== null && !Array.isArray(query)) {
    const inner = (query as Record<string, unknown>)['body'];
    if (typeof inner === 'string') return inner;
  }
  return undefined;
}

export function messageRoutes(app: FastifyInstance, service: () => ChatService): void {
  app.post<{ Params: ChatParams; Body: { body: string } }>('/applications/:token/chats/:number/messages', {
    schema: {
      tags: ['messages'], summary: 'Create a message (its number is assigned)', params: params.chat, headers: idempotencyHeaders,
      body: bodies.messageCreate, response: { 201: resources.message, ...errorResponses.write },
    },
  }, async (request, reply) => {
    const created = await service().createMessage(request.params.token, pathNumber(request.params.number, 'number'), request.body.body, requestMeta(request));
    return reply.code(created.status).send(created.resource);
  });

  app.get<{ Params: ChatParams; Querystring: ListQuery }>('/applications/:token/chats/:number/messages', {
    schema: { tags: ['messages'], summary: 'List messages by number', params: params.chat, querystring: listQuery.numbers, response: { 200: { type: 'array', items: resources.message }, ...errorResponses.read } },
  }, async (request, reply) => {
    const limit = parseLimit(request.query.limit, limits.listLimitDefault, limits.listLimitMax);
    const page = await service().listMessages(request.params.token, pathNumber(request.params.number, 'number'), parseAfterNumber(request.query.after), limit);
    return sendPage(request, reply, page, limit);
  });

  app.get<{ Params: ChatParams; Querystring: ListQuery & { query: string } }>('/applications/:token/chats/:number/messages/search', {
    schema: {
      tags: ['messages'], summary: 'Search the messages of a chat (literal, case-insensitive substring)', description: searchDescription, params: params.chat,
      querystring: { type: 'object', required: ['query'], properties: { query: fields.searchQuery, limit: fields.limitQuery, after: fields.afterNumberQuery } },
      response: { 200: { type: 'array', items: resources.message }, ...errorResponses.read },
    },
    // compatibility form: the query in a JSON body of the GET, when the query string has none
    preValidation: async (request, reply) => {
      if (request.query.query !== undefined) return;
      const query = searchQueryOf(await readBodylessJson(request, reply));
      if (query !== undefined) request.query = { ...request.query, query };
    },
  }, async (request, reply) => {
    const limit = parseLimit(request.query.limit, limits.searchLimitDefault, limits.searchLimitMax);
    const page = await service().searchMessages(request.params.token, pathNumber(request.params.number, 'number'), request.query.query, parseAfterNumber(request.query.after), limit);
    return sendPage(request, reply, page, limit, { query: request.query.query });
  });

  app.get<{ Params: MessageParams }>('/applications/:token/chats/:number/messages/:mnumber', {
    schema: { tags: ['messages'], summary: 'Get a message', params: params.message, response: { 200: resources.message, ...errorResponses.read } },
  }, async (request) => service().getMessage(request.params.token, pathNumber(request.params.number, 'number'), pathNumber(request.params.mnumber, 'mnumber')));

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route<{ Params: MessageParams; Body: { body: string } }>({
      method, url: '/applications/:token/chats/:number/messages/:mnumber',
      schema: {
        tags: ['messages'], summary: 'Edit a message', params: params.message, headers: idempotencyHeaders,
        body: bodies.messageUpdate, response: { 200: resources.message, ...errorResponses.write },
      },
      handler: async (request, reply) => {
        const { token, number, mnumber } = request.params;
        const updated = await service().updateMessage(token, pathNumber(number, 'number'), pathNumber(mnumber, 'mnumber'), request.body.body, requestMeta(request));
        return reply.code(updated.status).send(updated.resource);
      },
    });
  }
}
