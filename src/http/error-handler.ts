import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MethodNotAllowedError, NotFoundError, TooManyRequestsError, UnavailableError, ValidationError, internalError, isAppError, type AppError } from '../domain/errors.js';

/** Fastify's own error codes, mapped onto the API's catalogue. */
function fromFastify(err: FastifyError): AppError | undefined {
  if (err.validation) {
    const where = err.validationContext ?? 'request';
    const first = err.validation[0];
    const path = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
    const field = path || (first?.params && 'missingProperty' in first.params ? String(first.params['missingProperty']) : '');
    const detail = first?.keyword === 'required' ? 'is required' : first?.keyword === 'pattern' && (first.params as { pattern?: string }).pattern === '\\S' ? 'must not be empty' : first?.message ?? 'is invalid';
    return new ValidationError(`${where}${field ? `.${field}` : ''} ${detail}`);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? new ValidationError('request body must be JSON (Content-Type: application/json)', 'unsupported_media_type', 415)
        : new ValidationError('invalid Content-Length');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ValidationError('request body is larger than the limit', 'payload_too_large', 413);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ValidationError('request body is not valid JSON', 'malformed_json');
  }
  if (err instanceof SyntaxError) return new ValidationError('request body is not valid JSON', 'malformed_json');
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new ValidationError(err.message, 'validation_error', err.statusCode);
  }
  return undefined;
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error instanceof UnavailableError || error instanceof TooManyRequestsError) void reply.header('Retry-After', String(error.retryAfterSeconds));
  if (error instanceof MethodNotAllowedError) void reply.header('Allow', error.allow.join(', '));
  return reply.code(error.statusCode).type('application/json; charset=utf-8').send(error.toBody());
}

/**
 * One error shape everywhere: `{ error, message }`; 5xx never echo internal text. An unknown path is a 404; a
 * known path asked with another method is a 405 with `Allow` (`allowedMethods` knows the route table).
 */
export function registerErrorHandling(app: FastifyInstance, allowedMethods: (request: FastifyRequest) => AppError | undefined = () => undefined): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const mapped = isAppError(err) ? err : fromFastify(err);
    if (mapped) {
      if (mapped.statusCode >= 500) request.log.warn({ err: mapped.cause ?? mapped }, mapped.message);
      return sendError(reply, mapped);
    }
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, internalError());
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, allowedMethods(request) ?? NotFoundError.route(request.method, request.url)));
}
