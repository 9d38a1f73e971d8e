import { createHash, randomUUID } from 'node:crypto';

/**
 * A command's id. With an Idempotency-Key it is derived from the key and the request's scope (method and
 * path), so a retry produces the same id and the actor answers with what the first attempt created;
 * without one it is random. 32 hex characters either way.
 */
export function commandIdFor(scope: string, idempotencyKey?: string): string {
  if (idempotencyKey === undefined) return randomUUID().replace(/-/g, '');
  return createHash('sha256').update(scope).update('\n').update(idempotencyKey).digest('hex').slice(0, 32);
}
