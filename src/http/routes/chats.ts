import type { FastifyInstance } from 'fastify';
import { limits } from '../../domain/limits.js';
import type { ChatService } from '../../gateway/chat-service.js';
import { bodies, resources } from '../../protocol/schemas.js';
import { parseAfterNumber, parseLimit, pathNumber, requestMeta, sendPage } from '../request-helpers.js';
import { errorResponses, idempotencyHeaders, listQuery, params, type ChatParams, type ListQuery, type TokenParams } from './common.js';

export function chatRoutes(app: FastifyInstance, service: () => ChatService): void {
  app.post<{ Params: TokenParams; Body: { name?: string | null } | undefined }>('/applications/:token/chats', {
    schema: {
      tags: ['chats'], summary: 'Create a chat (its number is assigned)', params: params.application, headers: idempotencyHeaders,
      body: bodies.chatCreate, response: { 201: resources.chat, ...errorResponses.write },
    },
    // no body, an empty body and {} are all fine
    preValidation: async (request) => {
      if (request.body === undefined || request.body === null) request.body = {};
    },
  }, async (request, reply) => {
    const created = await service().createChat(request.params.token, request.body?.name ?? null, requestMeta(request));
    return reply.code(created.status).send(created.resource);
  });

  app.get<{ Params: TokenParams; Querystring: ListQuery }>('/applications/:token/chats', {
    schema: { tags: ['chats'], summary: 'List chats by number', params: params.application, querystring: listQuery.numbers, response: { 200: { type: 'array', items: resources.chat }, ...errorResponses.read } },
  }, async (request, reply) => {
    const limit = parseLimit(request.query.limit, limits.listLimitDefault, limits.listLimitMax);
    return sendPage(request, reply, await service().listChats(request.params.token, parseAfterNumber(request.query.after), limit), limit);
  });

  app.get<{ Params: ChatParams }>('/applications/:token/chats/:number', {
    schema: { tags: ['chats'], summary: 'Get a chat', params: params.chat, response: { 200: resources.chat, ...errorResponses.read } },
  }, async (request) => service().getChat(request.params.token, pathNumber(request.params.number, 'number')));

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route<{ Params: ChatParams; Body: { name: string | null } }>({
      method, url: '/applications/:token/chats/:number',
      schema: {
        tags: ['chats'], summary: 'Rename a chat', params: params.chat, headers: idempotencyHeaders,
        body: bodies.chatUpdate, response: { 200: resources.chat, ...errorResponses.write },
      },
      handler: async (request, reply) => {
        const updated = await service().updateChat(request.params.token, pathNumber(request.params.number, 'number'), request.body.name, requestMeta(request));
        return reply.code(updated.status).send(updated.resource);
      },
    });
  }
}
