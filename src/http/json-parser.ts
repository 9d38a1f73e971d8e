import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '../domain/errors.js';
import { checkWellFormed, decodeUtf8 } from '../domain/text.js';

const unsupported = (why: string): ValidationError => new ValidationError(why, 'unsupported_media_type', 415);

const JSON_MEDIA_TYPE = /^\s*application\/(?:json|[a-z0-9.+-]+\+json)\s*(?:;|$)/i;

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

/**
 * The JSON body of a request whose method Fastify never parses a body for (GET), for the routes that accept one as
 * a compatibility form (search). Undefined when there is none, or when its content type is neither JSON nor absent
 * (such a body is ignored, as on every other GET). Same rules as the parser: at most the route's body limit (413,
 * and the connection is closed), UTF-8 only, malformed JSON a 400 `malformed_json`, no lone surrogates.
 */
export async function readBodylessJson(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const { headers } = request;
  const declared = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (headers['transfer-encoding'] === undefined && !(declared !== undefined && declared > 0)) return undefined;
  const contentType = headers['content-type'];
  if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType)) return undefined;
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw unsupported(`request body must be UTF-8 JSON (charset=${charset.slice(0, 40)} is not supported)`);
  }
  const limit = request.routeOptions.bodyLimit ?? Number.POSITIVE_INFINITY;
  const tooLarge = (): ValidationError => {
    void reply.header('Connection', 'close');
    return new ValidationError('request body is larger than the limit', 'payload_too_large', 413);
  };
  if (declared !== undefined && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  const text = decodeUtf8(Buffer.concat(chunks), 'request body');
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ValidationError('request body is not valid JSON', 'malformed_json');
  }
  checkWellFormed(body, 'body');
  return body;
}
