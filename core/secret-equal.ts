/**
 * Compares a presented secret with the expected one in time that does not depend on where they
 * differ or on the presented length: both are hashed to SHA-256 first, and the digests are compared
 * with crypto.timingSafeEqual. Used for every credential of the internal planes (node agent
 * token, token-channel keys, replica forward tokens).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function secretEqual(presented: string | undefined, expected: string): boolean {
  if (typeof presented !== 'string') {
    timingSafeEqual(digest(''), digest(expected)); // same work either way
    return false;
  }
  return timingSafeEqual(digest(presented), digest(expected));
}
