import { createHash, randomUUID } from 'node:crypto';

/**
 * Idempotency-Key handling, after the IETF `Idempotency-Key` HTTP header draft:
 * - a key is scoped to its tenant (the application token in the path; no tenant for POST /applications), so two
 *   applications can use the same key without meeting;
 * - a key is bound to the request it first came with through a fingerprint of the operation (method and route,
 *   or NATS subject) and of the command it asks for (path parameters and body fields), so the same key with a
 *   different request is refused (422) instead of answering another request's outcome.
 */
export interface IdempotentRequest {
  /** Tenant: the application token of the path, or null (application creation). */
  tenant: string | null;
  key: string;
  /** `POST /applications/:token/chats`, `nats chats.create`, …: the operation, not the URL. */
  operation: string;
  /** What the request asks for, in canonical form: the command (path parameters and body fields). */
  command: unknown;
}

/** Name of the stored record of a key (a KV key: hex, whatever characters the client's key has). */
export function recordKeyOf(req: Pick<IdempotentRequest, 'tenant' | 'key'>): string {
  return sha256(JSON.stringify([req.tenant, req.key]));
}

/** Fingerprint of the request a key is bound to. */
export function fingerprintOf(req: Pick<IdempotentRequest, 'operation' | 'command'>): string {
  return sha256(JSON.stringify([req.operation, canonical(req.command)]));
}

/**
 * A command's id. With an Idempotency-Key it is derived from the key's record and the request's fingerprint, so a
 * retry of the same request produces the same id (the actor answers with what the first attempt created) and a
 * different request with the same key never shares it; without one it is random. 32 hex characters either way.
 */
export function commandIdFor(req?: IdempotentRequest): string {
  if (req === undefined) return randomUUID().replace(/-/g, '');
  return sha256(`${recordKeyOf(req)}\n${fingerprintOf(req)}`).slice(0, 32);
}

/** JSON with object keys sorted, so that `{a,b}` and `{b,a}` fingerprint alike. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
