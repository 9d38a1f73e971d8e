import { readdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The web console's files (`console/` at the root of the repository, next to src/ and dist/). */
const DIR = new URL('../../console/', import.meta.url);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The web console at `/console/`: static files read once at start (no build step, no file system access per
 * request: only the files listed here can be served). It talks to the API of the same origin, so the CSP of
 * src/http/hardening.ts (`script-src 'self'`, `connect-src 'self'`) is all it needs.
 */
export function consoleRoutes(app: FastifyInstance): void {
  const files = new Map<string, { type: string; body: Buffer }>();
  let names: string[] = [];
  try {
    names = readdirSync(DIR);
  } catch {
    app.log.warn('console/ not found: /console is not served');
    return;
  }
  for (const name of names) {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (type) files.set(name, { type, body: readFileSync(new URL(name, DIR)) });
  }
  const send = (name: string) => async (_request: unknown, reply: FastifyReply) => {
    const file = files.get(name);
    if (!file) return reply.code(404).type('application/json; charset=utf-8').send({ error: 'not_found', message: 'no such console file' });
    return reply.header('Cache-Control', 'no-cache').type(file.type).send(file.body);
  };
  app.get('/console', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => reply.redirect('/console/', 302));
  app.get('/console/', { schema: { hide: true }, logLevel: 'warn' }, send('index.html'));
  app.get<{ Params: { file: string } }>('/console/:file', { schema: { hide: true }, logLevel: 'warn' }, async (request, reply) => send(request.params.file)(request, reply));
}
