/**
 * The Placement seam fed by the scheduler: for a function the auto-scaler placed, the replicas per
 * node of its last decision; for the rest (or when that assignment no longer fits: another count,
 * a node gone) the fallback (even spread).
 */
import type { NodeAgentClient } from '../../core/contracts/node-agent.ts';
import type { Placement } from '../control/placement.ts';

export interface PlannedPlacement extends Placement {
  /** Replicas per node URL for `name.namespace`; undefined clears it. */
  set(key: string, perNodeUrl: ReadonlyMap<string, number> | undefined): void;
}

export function createPlannedPlacement(fallback: Placement): PlannedPlacement {
  const plans = new Map<string, ReadonlyMap<string, number>>();
  return {
    set(key, perNode) {
      if (perNode) plans.set(key, new Map(perNode));
      else plans.delete(key);
    },
    place(fn, nodes) {
      const plan = plans.get(`${fn.name}.${fn.namespace}`);
      if (plan) {
        let total = 0;
        for (const n of plan.values()) total += n;
        const byUrl = new Map(nodes.map((n) => [n.url, n]));
        if (total === fn.replicas && [...plan.keys()].every((u) => byUrl.has(u))) {
          const out = new Map<NodeAgentClient, number>();
          for (const [u, n] of plan) if (n > 0) out.set(byUrl.get(u)!, n);
          return out;
        }
      }
      return fallback.place(fn, nodes);
    },
  };
}
