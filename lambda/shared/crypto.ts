import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A URL-safe random string of `bytes` random bytes (32 bytes = 256 bits). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** What `randomToken()` (32 bytes) yields: 43 base64url characters. Anything else is not ours, unread. */
export const isRandomToken = (value: string): boolean => /^[A-Za-z0-9_-]{43}$/.test(value);

/** SHA-256 as base64url: how codes, tokens and secrets are stored and compared. */
export function sha256(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Constant-time comparison of two strings of any length (compares their digests). */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** A short, non-reversible handle for a user in logs (never the raw subject). */
export function subjectHash(sub: string): string {
  return sha256(`sub:${sub}`).slice(0, 22);
}
