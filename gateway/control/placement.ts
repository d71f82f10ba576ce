/**
 * Placement decides how many of a function's replicas each node runs and, optionally, in which
 * configurations (replica groups: the auto-scaler's planned placement, gateway/autoscale/). The
 * fallback spreads replicas evenly and deterministically: nodes in URL order, starting at an
 * offset derived from the function's name so that single-replica functions do not all land on
 * the first node; every replica runs the function's own annotations.
 */
import type { NodeAgentClient, ReplicaGroup } from '../../core/contracts/node-agent.ts';

export interface PlacementRequest {
  name: string;
  namespace: string;
  replicas: number;
}

export interface Placement {
  /** Replicas per node; nodes not in the result run none. */
  place(fn: PlacementRequest, nodes: readonly NodeAgentClient[]): Map<NodeAgentClient, number>;
  /**
   * The replica groups `node` runs for the function when place() gave it `replicas` (their counts
   * add up to it); undefined: every replica runs the function's annotations.
   */
  groups?(fn: PlacementRequest, node: NodeAgentClient, replicas: number): ReplicaGroup[] | undefined;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export const evenSpreadPlacement: Placement = {
  place(fn, nodes) {
    const out = new Map<NodeAgentClient, number>();
    if (nodes.length === 0 || fn.replicas <= 0) return out;
    const sorted = [...nodes].sort((a, b) => a.url.localeCompare(b.url));
    const n = sorted.length;
    const base = Math.floor(fn.replicas / n);
    const extra = fn.replicas % n;
    const offset = hash(`${fn.name}.${fn.namespace}`) % n;
    for (let i = 0; i < n; i++) {
      const node = sorted[(offset + i) % n]!;
      const count = base + (i < extra ? 1 : 0);
      if (count > 0) out.set(node, count);
    }
    return out;
  },
};
