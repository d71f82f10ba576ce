/**
 * Who presents which credentials, for /system/* and for invocations:
 *   - passwords (basic auth): the configured admin (constant-time digest compare) or a tenant
 *     (bcrypt on the password threads). Every rejection costs exactly one bcrypt check, whether
 *     the user is unknown, a tenant with a wrong password or the admin's name with a wrong
 *     password (checked against a dummy hash), so timing does not tell which names exist.
 *   - a tenant's API key (Bearer fgk_…): invocations only; /system refuses it.
 *   - the gateway's internal credential (queued async calls): invocations only.
 * Failed checks are throttled per user name and per source address (login-throttle.ts): while a
 * user or address is backing off, checks are answered "throttled" without hashing anything.
 * Credentials are never logged.
 */
import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import type { RequestHandler } from 'express';
import type { AdminCredentials } from '../../core/config.ts';
import type { InvocationCaller } from '../../core/contracts/tenants.ts';
import { PlatformError } from '../../core/errors.ts';
import { createAdminCheck } from '../http/auth.ts';
import type { TenantStore } from './tenant-store.ts';
import type { ApiKeyStore } from './api-keys.ts';
import { looksLikeApiKey } from './api-keys.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { InternalCredential } from './internal-credential.ts';
import { decodeCaller } from './internal-credential.ts';
import { parseAuthorization } from './credentials.ts';
import { ADMIN, setPrincipal, type Principal } from './principal.ts';

/** What a request presents: its Authorization header and where it comes from. */
export interface Presented {
  authorization: string | undefined;
  /** The throttling key of the peer address (sourceOf). */
  source: string;
  /** The internal credential and the caller it speaks for (invocations only). */
  internal?: string;
  onBehalfOf?: string | string[];
}

export type AuthOutcome =
  | { kind: 'ok'; principal: Principal }
  | { kind: 'anonymous' }
  | { kind: 'rejected'; message: string }
  | { kind: 'throttled'; retryAfterSeconds: number };

export interface Authenticator {
  /** /system/*: the admin's or a tenant's password. */
  system(p: Presented): Promise<AuthOutcome>;
  /** Invocations: a password, a tenant's API key, or the internal credential. */
  invoke(p: Presented): Promise<AuthOutcome>;
}

/** Older seam (routes/metrics.ts): the principal a header names on /system terms, undefined otherwise. */
export type Authenticate = (authorization: string | undefined, source?: string) => Promise<Principal | undefined>;

export interface AuthenticatorDeps {
  admin: AdminCredentials;
  tenants: TenantStore;
  keys: ApiKeyStore;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  internal: InternalCredential;
}

const WRONG = 'wrong user name or password: check the credentials given to `faas-cli login`';

/**
 * The throttling key of a peer address: IPv4 (also IPv4-mapped IPv6) as it is, IPv6 by its /64,
 * the block one host usually holds. The socket's address, never X-Forwarded-For, which anyone
 * can write.
 */
export function sourceOf(address: string | undefined): string {
  if (!address) return 'unknown';
  const a = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1]!;
  if (!isIPv6(a)) return a;
  const [head = '', tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? h : [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

export function presentedBy(req: IncomingMessage): Presented {
  return { authorization: req.headers.authorization, source: sourceOf(req.socket.remoteAddress) };
}

export function createAuthenticator(d: AuthenticatorDeps): Authenticator {
  const isAdmin = createAdminCheck(d.admin);

  const throttled = (ms: number): AuthOutcome => ({
    kind: 'throttled',
    retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)),
  });

  const password = async (user: string, pw: string, source: string): Promise<AuthOutcome> => {
    const wait = d.throttle.waitMs(user, source);
    if (wait > 0) return throttled(wait);
    let principal: Principal | undefined;
    if (isAdmin(user, pw)) principal = ADMIN;
    else if (user === d.admin.user)
      await d.hasher.verifyDummy(pw); // as costly as a tenant's wrong password
    else principal = await d.tenants.verify(user, pw); // a dummy check for unknown users
    if (principal) {
      d.throttle.succeeded(user, source);
      return { kind: 'ok', principal };
    }
    d.throttle.failed(user, source);
    return { kind: 'rejected', message: WRONG };
  };

  const apiKey = async (token: string, source: string): Promise<AuthOutcome> => {
    const wait = d.throttle.waitMs(undefined, source);
    if (wait > 0) return throttled(wait);
    const principal = looksLikeApiKey(token) ? await d.keys.verify(token) : undefined;
    if (principal) return { kind: 'ok', principal };
    d.throttle.failed(undefined, source);
    return {
      kind: 'rejected',
      message:
        'this API key is not valid (unknown, revoked or mistyped): create one with `fastgshare tenant key create`',
    };
  };

  const internal = async (p: Presented): Promise<AuthOutcome> => {
    if (!d.internal.check(p.internal)) {
      d.throttle.failed(undefined, p.source);
      return { kind: 'rejected', message: 'unknown internal credential' };
    }
    const caller: InvocationCaller = decodeCaller(p.onBehalfOf);
    if (caller.kind === 'admin') return { kind: 'ok', principal: ADMIN };
    if (caller.kind === 'anonymous') return { kind: 'anonymous' };
    const principal = await d.tenants.principal(caller.name); // as the tenant is now: removed tenants have no authority
    return principal ? { kind: 'ok', principal } : { kind: 'anonymous' };
  };

  return {
    async system(p) {
      const c = parseAuthorization(p.authorization);
      switch (c.kind) {
        case 'anonymous':
          return { kind: 'anonymous' };
        case 'basic':
          return password(c.user, c.password, p.source);
        case 'bearer':
          return {
            kind: 'rejected',
            message:
              "a Bearer token (API key) only invokes functions; /system/* takes the admin's or a tenant's password as basic auth (faas-cli login)",
          };
        case 'malformed':
          return {
            kind: 'rejected',
            message:
              'the Authorization header is not basic auth: log in with `faas-cli login --username USER --password-stdin`',
          };
      }
    },
    async invoke(p) {
      if (p.internal !== undefined) return internal(p);
      const c = parseAuthorization(p.authorization);
      switch (c.kind) {
        case 'anonymous':
          return { kind: 'anonymous' };
        case 'basic':
          return password(c.user, c.password, p.source);
        case 'bearer':
          return apiKey(c.token, p.source);
        case 'malformed':
          return { kind: 'rejected', message: 'the Authorization header is neither basic auth nor Bearer API_KEY' };
      }
    },
  };
}

/** With auth off: everyone is the admin, as before. */
export const OPEN_AUTHENTICATOR: Authenticator = {
  system: async () => ({ kind: 'ok', principal: ADMIN }),
  invoke: async () => ({ kind: 'ok', principal: ADMIN }),
};

/** The error (and Retry-After) a refused outcome answers; undefined for `ok`. */
export function refusal(
  o: AuthOutcome,
  anonymousHint: string,
): { error: PlatformError; retryAfterSeconds?: number } | undefined {
  switch (o.kind) {
    case 'ok':
      return undefined;
    case 'anonymous':
      return { error: new PlatformError('unauthorized', anonymousHint) };
    case 'rejected':
      return { error: new PlatformError('unauthorized', o.message) };
    case 'throttled':
      return {
        error: new PlatformError(
          'too_many_requests',
          `too many failed logins for this user or from this address: retry in ${o.retryAfterSeconds} s (each further failure doubles the wait; a success clears it)`,
          { details: { retryAfterSeconds: o.retryAfterSeconds } },
        ),
        retryAfterSeconds: o.retryAfterSeconds,
      };
  }
}

export function createSystemAuth(auth: Authenticator): RequestHandler {
  return (req, res, next) => {
    auth.system(presentedBy(req)).then((o) => {
      if (o.kind === 'ok') {
        setPrincipal(res, o.principal);
        return next();
      }
      const r = refusal(
        o,
        'this gateway requires basic auth on /system/*: run `faas-cli login --username USER --password-stdin` (the admin or a tenant)',
      );
      if (r?.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(r.retryAfterSeconds));
      next(r?.error);
    }, next);
  };
}

/** The `Authenticate` seam over `system` checks (no principal unless the outcome is ok). */
export function asAuthenticate(auth: Authenticator): Authenticate {
  return async (authorization, source = 'unknown') => {
    const o = await auth.system({ authorization, source });
    return o.kind === 'ok' ? o.principal : undefined;
  };
}
