/**
 * Who is calling: the admin (the configured basic-auth user, or anyone when auth is off) or a
 * tenant, which reaches only its own namespaces. Kept on `res.locals.principal` for /system/*.
 */
import type { Response } from 'express';

export interface TenantPrincipal {
  kind: 'tenant';
  name: string;
  /** The tenant's namespaces; the first is where requests without a namespace go. */
  namespaces: string[];
}

export type Principal = { kind: 'admin' } | TenantPrincipal;

export const ADMIN: Principal = { kind: 'admin' };

export function principalOf(res: Response): Principal {
  return (res.locals.principal as Principal | undefined) ?? ADMIN;
}

export function setPrincipal(res: Response, p: Principal): void {
  res.locals.principal = p;
}
