/**
 * The gateway's credential for the calls it makes to itself: a queued async call runs through
 * this gateway's own `/function/` route (async/function-caller.ts) carrying no caller credential,
 * only this one. It is 32 random bytes made when the process starts, held in memory, never stored
 * (not in Redis, not in the store, not in logs) and accepted only by this process's invoke auth;
 * with it goes whose authority the call carries (`InvocationCaller`, decided when the call was
 * submitted), which invoke auth checks again against the function as it is when the call runs.
 * Both headers are dropped before anything is forwarded to a replica (proxy/headers.ts).
 */
import { randomBytes } from 'node:crypto';
import type { InvocationCaller } from '../../core/contracts/tenants.ts';
import { secretEqual } from '../../core/secret-equal.ts';
import { INTERNAL_AUTH_HEADER, ON_BEHALF_HEADER } from '../proxy/headers.ts';

export interface InternalCredential {
  /** The headers an internal call on behalf of `caller` sends. */
  headers(caller: InvocationCaller): Record<string, string>;
  /** Whether a presented value is this process's credential (constant-time). */
  check(presented: string | undefined): boolean;
}

export function createInternalCredential(): InternalCredential {
  const secret = randomBytes(32).toString('base64url');
  return {
    headers: (caller) => ({ [INTERNAL_AUTH_HEADER]: secret, [ON_BEHALF_HEADER]: encodeCaller(caller) }),
    check: (presented) => secretEqual(presented, secret),
  };
}

export function encodeCaller(c: InvocationCaller): string {
  return c.kind === 'tenant' ? `tenant:${c.name}` : c.kind;
}

/** The caller a header names; anything unknown is anonymous (the least authority). */
export function decodeCaller(raw: string | string[] | undefined): InvocationCaller {
  const v = Array.isArray(raw) ? undefined : raw;
  if (v === 'admin') return { kind: 'admin' };
  if (v?.startsWith('tenant:') && v.length > 7) return { kind: 'tenant', name: v.slice(7) };
  return { kind: 'anonymous' };
}
