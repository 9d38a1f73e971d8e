import { randomBytes } from 'node:crypto';

/** Application tokens: 144 random bits, base64url (24 characters). */
export function newApplicationToken(): string {
  return randomBytes(18).toString('base64url');
}
