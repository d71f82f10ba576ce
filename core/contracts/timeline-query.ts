/** The timeline routes' query (agent and gateway): `since` (agent-clock ms) or `last` (ms back from now). */
import { PlatformError } from '../errors.ts';
import type { TimelineQuery } from './node-agent.ts';

/** `since` (agent-clock ms) or `last` (ms back from now), at most one. */
export function readTimelineQuery(query: Record<string, unknown>): TimelineQuery {
  for (const k of Object.keys(query))
    if (k !== 'since' && k !== 'last')
      throw new PlatformError('bad_request', `unknown query parameter "${k}": use since (agent-clock ms) or last (ms)`);
  const num = (k: string): number | undefined => {
    const v = query[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(Number(v)))
      throw new PlatformError(
        'bad_request',
        `query parameter "${k}" must be one number of ms, got ${JSON.stringify(v)}`,
        { details: { field: k } },
      );
    return Number(v);
  };
  const since = num('since');
  const last = num('last');
  if (since !== undefined && last !== undefined)
    throw new PlatformError('bad_request', 'give "since" or "last", not both');
  if (last !== undefined && last < 0)
    throw new PlatformError('bad_request', `query parameter "last" must be ≥ 0 ms, got ${last}`, {
      details: { field: 'last' },
    });
  return { ...(since !== undefined ? { since } : {}), ...(last !== undefined ? { lastMs: last } : {}) };
}
