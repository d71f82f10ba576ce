/**
 * Header rules for the invocation proxy: hop-by-hop headers never cross it, and neither do
 * credentials: the caller's `Authorization` (a tenant's password, an API key, the admin's) is
 * consumed by the gateway (gateway/tenants/invoke-auth.ts), as are the gateway's own internal
 * headers, so a function never sees a credential it could replay against the platform.
 */
import type { IncomingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

/** The gateway's own credential for calls it makes to itself (queued async calls); never forwarded. */
export const INTERNAL_AUTH_HEADER = 'x-fastgshare-internal-auth';
/** Whose authority such an internal call carries (`admin`, `tenant:NAME`, `anonymous`); never forwarded. */
export const ON_BEHALF_HEADER = 'x-fastgshare-on-behalf-of';

/** Request headers that carry credentials for the gateway: consumed there, never passed to a replica or stored. */
export const CREDENTIAL_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  INTERNAL_AUTH_HEADER,
  ON_BEHALF_HEADER,
];

/** Removes the credential headers from a request in place. */
export function stripCredentials(headers: IncomingHttpHeaders): void {
  for (const h of CREDENTIAL_HEADERS) delete headers[h];
}

/** Hop-by-hop header names for a message: the fixed set plus those its Connection header lists. */
export function hopByHop(headers: IncomingHttpHeaders): Set<string> {
  const names = new Set(HOP_BY_HOP);
  const conn = headers.connection;
  if (typeof conn === 'string') for (const t of conn.split(',')) if (t.trim()) names.add(t.trim().toLowerCase());
  return names;
}

/**
 * Removes hop-by-hop headers, and the credential headers, from a request in place before it is
 * forwarded. `transfer-encoding: chunked` is put back when the body has no length, so that Node
 * frames the forwarded body the same way.
 */
export function stripRequestHopByHop(headers: IncomingHttpHeaders): void {
  const chunked = typeof headers['transfer-encoding'] === 'string' && headers['content-length'] === undefined;
  for (const h of hopByHop(headers)) delete headers[h];
  stripCredentials(headers);
  if (chunked) headers['transfer-encoding'] = 'chunked';
}

/** Response headers to pass on to the client. */
export function endToEndHeaders(headers: IncomingHttpHeaders): [string, string | string[]][] {
  const drop = hopByHop(headers);
  return Object.entries(headers).filter((e): e is [string, string | string[]] => e[1] !== undefined && !drop.has(e[0]));
}

/** Unix time in nanoseconds, as a decimal string (X-Start-Time). */
export function unixNanos(ms: number): string {
  const whole = Math.floor(ms);
  return (BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6))).toString();
}
