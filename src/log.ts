import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** How much of a token stays in logs: enough to correlate lines, far too little to use it. */
const KEPT = 6;

/** A token in a log line: `abcdef…`. */
function redactToken(token: string): string {
  return token.length <= KEPT ? '…' : `${token.slice(0, KEPT)}…`;
}

/**
 * Tokens the service mints are 24 base64url characters (src/domain/tokens.ts): any such run standing alone in a
 * log line (a URL, a NATS subject, an actor key, a search document id, an error or SQL text) is cut to its prefix.
 */
const MINTED_TOKEN = /(?<![A-Za-z0-9_-])([A-Za-z0-9_-]{6})[A-Za-z0-9_-]{18}(?![A-Za-z0-9_-])/g;

function redactTokens(text: string): string {
  return text.replace(MINTED_TOKEN, '$1…');
}

/**
 * A request URL as it may be logged: the path segment after `/applications/` (a token, whatever its length) is
 * cut to its prefix, and the search text (`query=`) is replaced by its length (user content stays out of logs).
 */
function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).replace(/^(\/+applications\/+)([^/?]+)/, (_m, prefix: string, token: string) => prefix + redactToken(token));
  if (q < 0) return path;
  const query = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq >= 0 && pair.slice(0, eq) === 'query' ? `query=[${pair.length - eq - 1} chars]` : pair;
  });
  return `${path}?${query.join('&')}`;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Fastify's request serializer, with the URL redacted (tokens, search text). */
function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * Fields of an error that carry the data of the failed call rather than describe the failure: the search
 * client's request and response (`meta`: a query text, documents with message bodies) and a statement with its
 * values inlined (`sql`, which MikroORM's exceptions copy from mysql2's: message bodies, tokens).
 */
const ERROR_DATA_FIELDS = ['meta', 'sql'] as const;

/**
 * pino's error serializer, without ERROR_DATA_FIELDS (type, message, stack, code and the like stay), also in the
 * errors it serialized inside this one (fields holding an error, `aggregateErrors`).
 */
function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error); // what is not error-like comes back as it is
  if (out !== err) withoutData(out as unknown as Record<string, unknown>, 0);
  return out;
}

function withoutData(serialized: Record<string, unknown>, depth: number): void {
  for (const field of ERROR_DATA_FIELDS) delete serialized[field];
  if (depth >= 8) return;
  for (const value of Object.values(serialized)) {
    const inner = Array.isArray(value) ? value : [value];
    for (const v of inner) if (v !== null && typeof v === 'object' && 'stack' in v) withoutData(v as Record<string, unknown>, depth + 1);
  }
}

/**
 * The one root logger. Pretty-printed only on a TTY; roles and actors take children of it. Message bodies and
 * credentials are removed from every line; tokens are cut to a short prefix (see `redactTokens`).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const pretty = destination === undefined && process.stdout.isTTY === true;
  return pino({
    level,
    base: { pid: process.pid },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'body', '*.body', 'query', '*.query', 'token', '*.token'],
      censor: (value: unknown, path: string[]) => {
        const key = path[path.length - 1];
        if (key === 'token' && typeof value === 'string') return redactToken(value);
        return '[redacted]';
      },
    },
    serializers: { req: serializeRequest, err: serializeError },
    hooks: { streamWrite: redactTokens },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  }, destination);
}
