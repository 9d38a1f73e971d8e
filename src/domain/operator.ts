import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthError, ValidationError } from './errors.js';

/**
 * The operator credential (ADMIN_API_KEY) and what it protects: the listing of every application.
 */
export class Operator {
  private readonly digest: Buffer | undefined;
  private readonly cursorKey: Buffer;

  constructor(adminApiKey: string, namespace: string) {
    this.digest = adminApiKey === '' ? undefined : sha256(adminApiKey);
    // cursors are sealed with a key derived from the credential: rotating it invalidates old cursors (400)
    this.cursorKey = Buffer.from(hkdfSync('sha256', adminApiKey === '' ? randomBytes(32) : adminApiKey, namespace, 'chat applications cursor v1', 32));
  }

  /**
   * Throws unless `credential` (the bearer token sent) is the configured key: 403 when no key is configured,
   * 401 when none was sent, 403 when it is wrong. Compared in constant time (over SHA-256 digests, so the
   * length of the key does not leak either).
   */
  authorize(credential: string | undefined): void {
    if (this.digest === undefined) throw AuthError.disabled();
    if (credential === undefined || credential === '') throw AuthError.missing();
    if (!timingSafeEqual(sha256(credential), this.digest)) throw AuthError.wrong();
  }

  /**
   * The `after` cursor of the application listing: the position (an internal id, never shown) sealed with
   * AES-256-GCM. It carries no token, reveals no id, and cannot be altered or forged into another position.
   */
  sealCursor(position: number): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.cursorKey, iv);
    const plain = Buffer.alloc(8);
    plain.writeBigUInt64BE(BigInt(position));
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /** The position of a cursor from `sealCursor`; 400 for anything else (garbage, tampered, another key's). */
  openCursor(cursor: string): number {
    const invalid = ValidationError.field('after', 'is not a cursor this service issued');
    if (!/^[A-Za-z0-9_-]{48}$/.test(cursor)) throw invalid;
    const raw = Buffer.from(cursor, 'base64url');
    if (raw.length !== 36) throw invalid;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.cursorKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(20));
      const plain = Buffer.concat([decipher.update(raw.subarray(12, 20)), decipher.final()]);
      const position = Number(plain.readBigUInt64BE());
      if (!Number.isSafeInteger(position)) throw invalid;
      return position;
    } catch {
      throw invalid;
    }
  }
}

/** The credential of an `Authorization: Bearer <key>` header (HTTP, or the same header on a NATS request). */
export function bearerCredential(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : '';
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
