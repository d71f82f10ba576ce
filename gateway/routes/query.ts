/** Query-string helpers: one value per parameter, flags as 1/true. */
import { PlatformError } from '../../core/errors.ts';

export function queryString(query: unknown, name: string): string | undefined {
  const v = (query as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new PlatformError('bad_request', `query parameter "${name}" must be given once`);
  return v;
}

export function queryFlag(query: unknown, name: string): boolean {
  const v = queryString(query, name);
  if (v === undefined || v === '') return false;
  if (['1', 'true', 'yes'].includes(v.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(v.toLowerCase())) return false;
  throw new PlatformError('bad_request', `query parameter "${name}" must be true or false, got "${v}"`);
}
