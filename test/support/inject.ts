import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { UnavailableError } from '../../src/domain/errors.js';
import type { ChatService } from '../../src/gateway/chat-service.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/log.js';
import type { Response } from './expect.js';

export interface HttpOnly {
  app: FastifyInstance;
  /** The ChatService operations the routes called (`getChat`, …), in order: a validation error calls none. */
  calls: string[];
  /** Like the harness's `call`, through `app.inject()`: a JSON body gets `content-type: application/json`. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

/**
 * The HTTP app exactly as the api role builds it (`buildApp`), with no process behind it: for what the HTTP layer
 * answers alone (validation, parsing, routing). Every ChatService operation is recorded in `calls` and answers
 * 503 unless `service` provides it.
 */
export async function httpOnly(t: TestContext, opts: { service?: Partial<ChatService>; bodyLimit?: number } = {}): Promise<HttpOnly> {
  const calls: string[] = [];
  const provided = (opts.service ?? {}) as Record<string, unknown>;
  const service = new Proxy({} as ChatService, {
    get: (_target, name) => (...args: unknown[]) => {
      calls.push(String(name));
      const own = provided[String(name)];
      if (typeof own === 'function') return (own as (...a: unknown[]) => unknown)(...args);
      throw UnavailableError.dependency('nothing (HTTP-only test)');
    },
  });
  const app = await buildApp({ service: () => service, log: createLogger('silent'), ready: async () => ({}), bodyLimit: opts.bodyLimit ?? 1_048_576 });
  t.after(() => app.close());
  return {
    app,
    calls,
    call: async (method, path, body, headers = {}) => {
      const all: Record<string, string> = { ...headers };
      let payload: string | undefined;
      if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        all['content-type'] ??= 'application/json';
      }
      const res = await app.inject({ method: method as 'GET', url: path, headers: all, ...(payload === undefined ? {} : { payload }) });
      let parsed: unknown = res.body;
      try {
        parsed = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        // not JSON: keep the text
      }
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) responseHeaders.set(name, String(value));
      return { status: res.statusCode, headers: responseHeaders, body: parsed };
    },
  };
}
