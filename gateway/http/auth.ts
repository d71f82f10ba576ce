/**
 * Basic auth for /system/* (OpenFaaS: the CLI sends `Authorization: Basic …` after `faas-cli
 * login`, otherwise `Authorization: Bearer` with no token, which is anonymous). Credentials are
 * compared as SHA-256 digests with `timingSafeEqual`, so timing tells nothing about them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { AdminCredentials } from '../../core/config.ts';
import { PlatformError } from '../../core/errors.ts';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Checks an Authorization header value; true only for the configured user and password. */
export function createBasicAuthCheck(creds: AdminCredentials): (header: string | undefined) => boolean {
  const expected = digest(`${creds.user}:${creds.password}`);
  return (header) => {
    if (!header) return false;
    const m = /^Basic\s+(\S+)\s*$/i.exec(header);
    if (!m) return false;
    const given = digest(Buffer.from(m[1]!, 'base64').toString('utf8'));
    return timingSafeEqual(given, expected);
  };
}

export function createBasicAuth(creds: AdminCredentials): RequestHandler {
  const check = createBasicAuthCheck(creds);
  return (req, _res, next) => {
    if (check(req.headers.authorization)) return next();
    const anonymous = !req.headers.authorization || /^Bearer\s*$/i.test(req.headers.authorization);
    next(
      new PlatformError(
        'unauthorized',
        anonymous
          ? 'this gateway requires basic auth on /system/*: run `faas-cli login --username admin --password-stdin` (or pass -u user:password)'
          : 'wrong user name or password: check the credentials given to `faas-cli login`',
      ),
    );
  };
}
