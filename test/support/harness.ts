import type { TestContext } from 'node:test';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import { dropDeployment, testConfig, uniqueName } from './env.js';

export interface Deployment {
  namespace: string;
  config: Config;
  runtime: Runtime;
  url: string;
}

/**
 * Starts all (or some) roles in this process against the real MariaDB, NATS and Redis, in a fresh
 * namespace and database, and tears everything down after the test.
 */
export async function startDeployment(
  t: TestContext,
  opts: { namespace?: string; env?: Record<string, string>; overrides?: Partial<Config>; keep?: boolean } = {},
): Promise<Deployment> {
  const namespace = opts.namespace ?? uniqueName();
  const config = testConfig(namespace, opts.env, opts.overrides);
  const runtime = await startRuntime(config, createLogger(config.logLevel));
  t.after(async () => {
    await runtime.stop();
    if (!opts.keep) await dropDeployment(namespace);
  });
  return { namespace, config, runtime, url: runtime.url ?? '' };
}

/** JSON over HTTP, returning status, headers and parsed body. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies are asserted field by field
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  return readResponse(await fetch(base + path, init));
}

/** Status, headers and body (parsed when it is JSON, the text otherwise) of a fetch response. */
export async function readResponse(res: Response): Promise<{ status: number; headers: Headers; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies are asserted field by field
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
