/**
 * Chooses the replica for one invocation. The default sends each call to the ready replica
 * with the fewest calls in flight (ties take turns). The capacity-weighted router replaces it.
 */
import type { ReplicaStatus } from '../../core/contracts/node-agent.ts';

export interface Balancer {
  /** One of `candidates` (never empty when called), for function `key`. */
  pick(key: string, candidates: readonly ReplicaStatus[]): ReplicaStatus;
  /** Counts a call in flight on the replica; call the returned function when it ends. */
  begin(replicaId: string): () => void;
}

export function createLeastOutstandingBalancer(): Balancer {
  const outstanding = new Map<string, number>();
  const turn = new Map<string, number>();
  return {
    pick(key, candidates) {
      let best = Infinity;
      let ties: ReplicaStatus[] = [];
      for (const r of candidates) {
        const n = outstanding.get(r.id) ?? 0;
        if (n < best) {
          best = n;
          ties = [r];
        } else if (n === best) ties.push(r);
      }
      const t = turn.get(key) ?? 0;
      turn.set(key, t + 1);
      return ties[t % ties.length]!;
    },
    begin(replicaId) {
      outstanding.set(replicaId, (outstanding.get(replicaId) ?? 0) + 1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const n = (outstanding.get(replicaId) ?? 1) - 1;
        if (n <= 0) outstanding.delete(replicaId);
        else outstanding.set(replicaId, n);
      };
    },
  };
}
