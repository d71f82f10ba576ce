/**
 * Routing weights: each replica of a function takes a share of its requests proportional to its
 * profiled capacity, so unequal replicas are loaded equally relative to what they can do.
 * `pickReplica` is the matching balancer: weighted least-outstanding (the replica with the fewest
 * outstanding requests per unit of weight; ties to the earlier one).
 */
export interface WeightedReplica {
  id: string;
  capacityRps: number;
}

export function routingWeights(replicas: readonly WeightedReplica[]): Map<string, number> {
  const total = replicas.reduce((s, r) => s + Math.max(0, r.capacityRps), 0);
  const out = new Map<string, number>();
  for (const r of replicas) out.set(r.id, total > 0 ? Math.max(0, r.capacityRps) / total : 1 / replicas.length);
  return out;
}

export interface RoutingCandidate {
  id: string;
  weight: number;
  outstanding: number;
}

export function pickReplica(candidates: readonly RoutingCandidate[]): string | undefined {
  let best: RoutingCandidate | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    if (!(c.weight > 0)) continue;
    const score = (c.outstanding + 1) / c.weight;
    if (score < bestScore) ((best = c), (bestScore = score));
  }
  return best?.id;
}
