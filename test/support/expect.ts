import assert from 'node:assert/strict';
import { readResponse } from './harness.js';

export interface Response {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies are asserted field by field
}

/** An error response: the status, JSON `{ error, message }` (and the `error` code when given). */
export function expectError(res: Response, status: number, code?: string, what = ''): void {
  const label = `${what} → ${res.status} ${JSON.stringify(res.body)?.slice(0, 200)}`;
  assert.equal(res.status, status, label);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, label);
  assert.equal(typeof res.body?.error, 'string', label);
  assert.equal(typeof res.body?.message, 'string', label);
  if (code !== undefined) assert.equal(res.body.error, code, label);
}

/** Internal database ids never appear in a response: no `id`, `application_id`, `chat_id`, `message_id` at any depth. */
export function assertNoInternalIds(value: unknown, where = 'body'): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertNoInternalIds(item, `${where}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      assert.ok(!['id', 'application_id', 'chat_id', 'message_id', 'command_id', 'version'].includes(key), `${where} has internal field ${key}`);
      assertNoInternalIds(inner, `${where}.${key}`);
    }
  }
}

/** The path of `Link: <…>; rel="next"`, or undefined when there is none. */
export function nextLink(res: Response): string | undefined {
  const link = res.headers.get('link');
  if (link === null) return undefined;
  const match = /<([^>]+)>;\s*rel="next"/.exec(link);
  assert.ok(match?.[1], `Link header without rel="next": ${link}`);
  return match[1];
}

/** A POST with a raw body and exactly the given headers (fetch adds no JSON content type). */
export async function rawRequest(base: string, method: string, path: string, body: string | Uint8Array | undefined, headers: Record<string, string> = {}): Promise<Response> {
  return readResponse(await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body }) }));
}
