/**
 * Chooses the replica for one invocation. The default sends each call to the ready replica
 * with the fewest calls in flight (ties take turns). The weighted balancer spreads calls in
 * proportion to each replica's profiled capacity (weighted least-outstanding,
 * scheduler/routing.ts) when every candidate's capacity is known, and falls back to plain least
 * outstanding otherwise.
 */
import type { ReplicaStatus } from '../../core/contracts/node-agent.ts';
import { pickReplica } from '../../scheduler/routing.ts';

export interface Balancer {
  /** One of `candidates` (never empty when called), for function `key`. */
  pick(key: string, candidates: readonly ReplicaStatus[]): ReplicaStatus;
  /** Counts a call in flight on the replica; call the returned function when it ends. */
  begin(replicaId: string): () => void;
}

/** Profiled requests/s of a replica of function `key`; undefined when not known. */
export interface ReplicaCapacities {
  of(key: string, replica: ReplicaStatus): number | undefined;
}

function outstandingCounter() {
  const outstanding = new Map<string, number>();
  return {
    get: (id: string) => outstanding.get(id) ?? 0,
    begin(replicaId: string): () => void {
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

function leastOutstanding(outstanding: (id: string) => number) {
  const turn = new Map<string, number>();
  return (key: string, candidates: readonly ReplicaStatus[]): ReplicaStatus => {
    let best = Infinity;
    let ties: ReplicaStatus[] = [];
    for (const r of candidates) {
      const n = outstanding(r.id);
      if (n < best) {
        best = n;
        ties = [r];
      } else if (n === best) ties.push(r);
    }
    const t = turn.get(key) ?? 0;
    turn.set(key, t + 1);
    return ties[t % ties.length]!;
  };
}

export function createLeastOutstandingBalancer(): Balancer {
  const counter = outstandingCounter();
  return { pick: leastOutstanding(counter.get), begin: counter.begin };
}

export function createWeightedBalancer(capacities: ReplicaCapacities): Balancer {
  const counter = outstandingCounter();
  const plain = leastOutstanding(counter.get);
  return {
    pick(key, candidates) {
      if (candidates.length > 1) {
        const weighted = [];
        for (const r of candidates) {
          const w = capacities.of(key, r);
          if (!(w !== undefined && w > 0)) return plain(key, candidates);
          weighted.push({ id: r.id, weight: w, outstanding: counter.get(r.id) });
        }
        const id = pickReplica(weighted);
        const chosen = candidates.find((r) => r.id === id);
        if (chosen) return chosen;
      }
      return plain(key, candidates);
    },
    begin: counter.begin,
  };
}
