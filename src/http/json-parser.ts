import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../domain/errors.js';

/**
 * JSON bodies: an empty body counts as no body (so `POST /chats` with a JSON content type and nothing
 * else is fine), malformed JSON is a 400 `malformed_json`. A non-empty body of any other content type is refused with 415.
 */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parse = (_req: unknown, raw: string | Buffer, done: (err: Error | null, body?: unknown) => void): void => {
    const text = String(raw);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ValidationError('request body is not valid JSON', 'malformed_json'), undefined);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parse);
  app.addContentTypeParser(/^application\/[a-z0-9.+-]+\+json$/, { parseAs: 'string' }, parse);
  // any other content type: an empty body is no body (e.g. `curl -X POST -d ''` sends a form type), anything else is a 415
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, raw, done) => {
    if (raw.length === 0) return done(null, undefined);
    done(new ValidationError('request body must be JSON (Content-Type: application/json)', 'unsupported_media_type', 415), undefined);
  });
}
