import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../domain/errors.js';
import { checkWellFormed, decodeUtf8 } from '../domain/text.js';

const unsupported = (why: string): ValidationError => new ValidationError(why, 'unsupported_media_type', 415);

/** The `charset` parameter of a Content-Type, lower-cased, when there is one. */
function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType ?? '');
  return match ? match[2]!.toLowerCase() : undefined;
}

/**
 * JSON bodies: an empty body counts as no body (so `POST /chats` with a JSON content type and nothing
 * else is fine), malformed JSON is a 400 `malformed_json`. A non-empty body of any other content type is refused with 415.
 * Bodies are UTF-8 only: another declared charset is a 415, bytes that are not UTF-8 and strings holding a lone
 * surrogate (`"\ud800"`) are a 400 — nothing is decoded or stored altered.
 */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parse = (req: FastifyRequest, raw: Buffer, done: (err: Error | null, body?: unknown) => void): void => {
    const charset = charsetOf(req.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return done(unsupported(`request body must be UTF-8 JSON (charset=${charset.slice(0, 40)} is not supported)`), undefined);
    }
    try {
      const text = decodeUtf8(raw, 'request body');
      if (text.trim() === '') return done(null, undefined);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return done(new ValidationError('request body is not valid JSON', 'malformed_json'), undefined);
      }
      checkWellFormed(body, 'body');
      done(null, body);
    } catch (err) {
      done(err as Error, undefined);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parse);
  app.addContentTypeParser(/^application\/[a-z0-9.+-]+\+json$/, { parseAs: 'buffer' }, parse);
  // any other content type: an empty body is no body (e.g. `curl -X POST -d ''` sends a form type), anything else is a 415
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, raw, done) => {
    if (raw.length === 0) return done(null, undefined);
    done(unsupported('request body must be JSON (Content-Type: application/json)'), undefined);
  });
  // compressed bodies are not decoded (documented): refused before a byte is read, whatever the content type
  app.addHook('preParsing', async (request) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined || /^\s*identity\s*$/i.test(encoding)) return;
    const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    if (hasBody) throw unsupported(`Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported: send the body uncompressed (identity)`);
  });
}
