/**
 * Basic auth for /system/* that knows tenants: the configured admin (checked as before, in
 * constant time) or a tenant's credentials (bcrypt). Sets the request's principal; a wrong or
 * missing credential is a 401 that says how to log in. Credentials are never logged.
 */
import type { RequestHandler } from 'express';
import type { AdminCredentials } from '../../core/config.ts';
import { PlatformError } from '../../core/errors.ts';
import { createBasicAuthCheck } from '../http/auth.ts';
import type { TenantStore } from './tenant-store.ts';
import { parseAuthorization } from './credentials.ts';
import { ADMIN, setPrincipal, type Principal } from './principal.ts';

export type Authenticate = (authorization: string | undefined) => Promise<Principal | undefined>;

/** Admin first, then tenants; undefined when the header names no one. */
export function createAuthenticator(admin: AdminCredentials, tenants: TenantStore): Authenticate {
  const isAdmin = createBasicAuthCheck(admin);
  return async (header) => {
    if (isAdmin(header)) return ADMIN;
    const given = parseAuthorization(header);
    if (!given || given.user === admin.user) return undefined;
    return tenants.verify(given.user, given.password);
  };
}

export function createSystemAuth(authenticate: Authenticate): RequestHandler {
  return (req, res, next) => {
    authenticate(req.headers.authorization).then((p) => {
      if (p) {
        setPrincipal(res, p);
        return next();
      }
      const anonymous = !req.headers.authorization || /^Bearer\s*$/i.test(req.headers.authorization);
      next(
        new PlatformError(
          'unauthorized',
          anonymous
            ? 'this gateway requires basic auth on /system/*: run `faas-cli login --username USER --password-stdin` (the admin or a tenant)'
            : 'wrong user name or password: check the credentials given to `faas-cli login`',
        ),
      );
    }, next);
  };
}
