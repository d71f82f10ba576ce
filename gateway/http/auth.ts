/**
 * The configured admin's credentials, checked in constant time: user and password are compared
 * as one SHA-256 digest with `timingSafeEqual`, so timing tells nothing about either.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AdminCredentials } from '../../core/config.ts';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** True only for the configured admin user and password. */
export function createAdminCheck(creds: AdminCredentials): (user: string, password: string) => boolean {
  const expected = digest(`${creds.user}:${creds.password}`);
  return (user, password) => timingSafeEqual(digest(`${user}:${password}`), expected);
}

/** Checks an Authorization header value; true only for the configured user and password (basic auth). */
export function createBasicAuthCheck(creds: AdminCredentials): (header: string | undefined) => boolean {
  const check = createAdminCheck(creds);
  return (header) => {
    const m = header ? /^Basic\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) return false;
    const text = Buffer.from(m[1]!, 'base64').toString('utf8');
    const i = text.indexOf(':');
    return i >= 0 && check(text.slice(0, i), text.slice(i + 1));
  };
}
