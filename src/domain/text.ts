import { ValidationError } from './errors.js';

/** A UTF-16 surrogate not part of a pair: not a character, and not storable as UTF-8 without altering it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/**
 * Refuses (400) any string in a decoded JSON value (keys included) that holds a lone surrogate, so nothing is
 * stored altered (MySQL's utf8mb4 would turn it into U+FFFD). `where` names the part (`body`, `query`…).
 */
export function checkWellFormed(value: unknown, where: string, depth = 0): void {
  if (typeof value === 'string') {
    if (hasLoneSurrogate(value)) throw ValidationError.field(where, 'contains a lone surrogate (not well-formed Unicode)');
    return;
  }
  if (typeof value !== 'object' || value === null || depth > 64) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkWellFormed(item, `${where}[${i}]`, depth + 1));
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (hasLoneSurrogate(key)) throw ValidationError.field(where, 'has a key with a lone surrogate (not well-formed Unicode)');
    checkWellFormed(item, `${where}.${key}`, depth + 1);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 decoding: bytes that are not UTF-8 are a 400, never silently replaced by U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, where: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw ValidationError.field(where, 'is not valid UTF-8');
  }
}
