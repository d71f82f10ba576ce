/**
 * Tenant credentials as sent on the wire: `Authorization: Basic base64(tenant:password)` (what
 * faas-cli login stores) or `Authorization: Bearer tenant.password` (an API key for callers of
 * functions). Tenant names hold no '.', so the key splits at its first dot.
 */
export interface PresentedCredentials {
  user: string;
  password: string;
}

export function parseAuthorization(header: string | undefined): PresentedCredentials | undefined {
  if (!header) return undefined;
  const basic = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (basic) {
    const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i <= 0) return undefined;
    return { user: text.slice(0, i), password: text.slice(i + 1) };
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) {
    const key = bearer[1]!;
    const i = key.indexOf('.');
    if (i <= 0 || i === key.length - 1) return undefined;
    return { user: key.slice(0, i), password: key.slice(i + 1) };
  }
  return undefined;
}

/** The API key form of a tenant's credentials. */
export function apiKeyOf(tenant: string, password: string): string {
  return `${tenant}.${password}`;
}
