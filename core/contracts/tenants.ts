/** Tenant wire types (`/system/tenants`, `/system/tenant/keys`), shared by the gateway, the CLI and the tests. */

export interface TenantInfo {
  name: string;
  namespaces: string[];
  createdAt?: string;
}

/**
 * What create and rotate answer: the only time the password is ever shown. The password is the
 * tenant's control-plane credential (basic auth on /system/*); to call functions, give callers an
 * invoke-only API key instead (`POST /system/tenant/keys`).
 */
export interface IssuedCredentials extends TenantInfo {
  username: string;
  password: string;
  generated: boolean;
}

/**
 * An invoke-only API key as listed: `Authorization: Bearer <key>` invokes the tenant's functions
 * and nothing else (never /system/*). The gateway keeps only a SHA-256 of the key's secret.
 */
export interface ApiKeyInfo {
  /** The key's public id (also its visible part: keys read `fgk_<id>_<secret>`). */
  id: string;
  tenant: string;
  /** A label given at creation ('' when none). */
  name: string;
  createdAt?: string;
}

/** What key creation answers: the only time the key is ever shown. */
export interface IssuedApiKey extends ApiKeyInfo {
  key: string;
}

/**
 * Whose authority an invocation was accepted with, as decided by the gateway's invoke auth when
 * it was submitted: stored with a queued (async) call instead of the caller's credentials, and
 * checked again when the call runs.
 */
export type InvocationCaller = { kind: 'admin' } | { kind: 'tenant'; name: string } | { kind: 'anonymous' };
