/**
 * Credentials as sent on the wire, in the `Authorization` header:
 *   Basic base64(user:password)   the admin's or a tenant's password (what faas-cli login stores);
 *                                 /system/* and invocations
 *   Bearer fgk_<id>_<secret>      a tenant's invoke-only API key (api-keys.ts); invocations only
 *   Bearer (no token) or none     anonymous (faas-cli sends a bare `Bearer` when not logged in)
 * Anything else is malformed. A password is no longer accepted as a bearer token: keys and
 * passwords are different credentials with different reach.
 */
export type PresentedCredentials =
  | { kind: 'anonymous' }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'malformed' };

export function parseAuthorization(header: string | undefined): PresentedCredentials {
  if (header === undefined || header.trim() === '' || /^Bearer\s*$/i.test(header)) return { kind: 'anonymous' };
  const basic = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (basic) {
    const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i <= 0) return { kind: 'malformed' };
    return { kind: 'basic', user: text.slice(0, i), password: text.slice(i + 1) };
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return { kind: 'bearer', token: bearer[1]! };
  return { kind: 'malformed' };
}
