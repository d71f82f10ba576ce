/**
 * A replica the profiler calls directly (trial load, the function's sample): its URL and its
 * forward token, which the replica requires on every request (FORWARD_TOKEN_HEADER).
 */
import { FORWARD_TOKEN_HEADER, type ReplicaStatus } from '../core/contracts/node-agent.ts';

export type ReplicaTarget = Pick<ReplicaStatus, 'url' | 'forwardToken'>;

export function forwardHeaders(r: ReplicaTarget): Record<string, string> {
  return r.forwardToken ? { [FORWARD_TOKEN_HEADER]: r.forwardToken } : {};
}
