import type { FastifyInstance } from 'fastify';
import { limits } from '../../domain/limits.js';
import { bearerCredential } from '../../domain/operator.js';
import type { ChatService } from '../../gateway/chat-service.js';
import { bodies, resources } from '../../protocol/schemas.js';
import { parseLimit, requestMeta, sendPage } from '../request-helpers.js';
import { errorResponses, idempotencyHeaders, listQuery, params, type ListQuery, type TokenParams } from './common.js';

export function applicationRoutes(app: FastifyInstance, service: () => ChatService): void {
  app.post<{ Body: { name: string } }>('/applications', {
    schema: {
      tags: ['applications'], summary: 'Register an application', headers: idempotencyHeaders, body: bodies.applicationCreate,
      response: { 201: resources.application, ...errorResponses.write },
    },
  }, async (request, reply) => {
    const created = await service().createApplication(request.body.name, requestMeta(request));
    return reply.code(created.status).send(created.resource);
  });

  app.get<{ Querystring: ListQuery }>('/applications', {
    schema: {
      tags: ['applications'], summary: 'List every application (operators only: Authorization: Bearer <ADMIN_API_KEY>)',
      security: [{ adminApiKey: [] }], querystring: listQuery.cursor,
      response: { 200: { type: 'array', items: resources.application }, ...errorResponses.operator },
    },
    // the credential first: nothing about the request is checked (or answered) for someone who may not list
    onRequest: async (request) => {
      service().authorizeOperator(bearerCredential(request.headers.authorization));
    },
    onSend: async (_request, reply) => {
      if (reply.statusCode === 401) void reply.header('WWW-Authenticate', 'Bearer realm="chat-operator"');
    },
  }, async (request, reply) => {
    const limit = parseLimit(request.query.limit, limits.listLimitDefault, limits.listLimitMax);
    const page = await service().listApplications(bearerCredential(request.headers.authorization), request.query.after, limit);
    return sendPage(request, reply, page, limit);
  });

  app.get<{ Params: TokenParams }>('/applications/:token', {
    schema: { tags: ['applications'], summary: 'Get an application', params: params.application, response: { 200: resources.application, ...errorResponses.read } },
  }, async (request) => service().getApplication(request.params.token));

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route<{ Params: TokenParams; Body: { name: string } }>({
      method, url: '/applications/:token',
      schema: {
        tags: ['applications'], summary: 'Rename an application', params: params.application, headers: idempotencyHeaders,
        body: bodies.applicationUpdate, response: { 200: resources.application, ...errorResponses.write },
      },
      handler: async (request, reply) => {
        const updated = await service().updateApplication(request.params.token, request.body.name, requestMeta(request));
        return reply.code(updated.status).send(updated.resource);
      },
    });
  }
}
