/**
 * The Placement seam fed by the scheduler: for a function the auto-scaler placed, the replicas per
 * node of its last decision and, when it plans configurations, the replica groups of each node;
 * for the rest (or when that assignment no longer fits: another count, a node gone) the fallback
 * (even spread, every replica on the function's own annotations).
 */
import type { NodeAgentClient, ReplicaGroup } from '../../core/contracts/node-agent.ts';
import { PlatformError } from '../../core/errors.ts';
import type { Placement, PlacementRequest } from '../control/placement.ts';

export interface PlannedPlacement extends Placement {
  /**
   * Replicas per node URL for `name.namespace` and, optionally, the replica groups of each node
   * (their counts add up to the node's); undefined clears it.
   */
  set(
    key: string,
    perNodeUrl: ReadonlyMap<string, number> | undefined,
    groups?: ReadonlyMap<string, readonly ReplicaGroup[]>,
  ): void;
}

interface Plan {
  perNode: ReadonlyMap<string, number>;
  groups?: ReadonlyMap<string, readonly ReplicaGroup[]>;
}

const total = (plan: Plan) => [...plan.perNode.values()].reduce((a, n) => a + n, 0);

export function createPlannedPlacement(fallback: Placement): PlannedPlacement {
  const plans = new Map<string, Plan>();
  /** The plan of `fn` when it is for this many replicas (and, given `urls`, only uses those nodes). */
  const fitting = (fn: PlacementRequest, urls?: ReadonlySet<string>): Plan | undefined => {
    const plan = plans.get(`${fn.name}.${fn.namespace}`);
    if (!plan || total(plan) !== fn.replicas) return undefined;
    return !urls || [...plan.perNode.keys()].every((u) => urls.has(u)) ? plan : undefined;
  };
  return {
    set(key, perNode, groups) {
      if (!perNode) {
        plans.delete(key);
        return;
      }
      if (groups) {
        for (const [url, gs] of groups) {
          const sum = gs.reduce((a, g) => a + g.replicas, 0);
          if (sum !== (perNode.get(url) ?? 0))
            throw new PlatformError(
              'internal',
              `planned replica groups of ${key} on ${url} add up to ${sum}, not the ${perNode.get(url) ?? 0} replicas planned there`,
            );
        }
      }
      plans.set(key, {
        perNode: new Map(perNode),
        ...(groups
          ? {
              groups: new Map(
                [...groups].map(([u, gs]) => [
                  u,
                  gs.map((g) => ({ replicas: g.replicas, annotations: { ...g.annotations } })),
                ]),
              ),
            }
          : {}),
      });
    },
    place(fn, nodes) {
      const plan = fitting(fn, new Set(nodes.map((n) => n.url)));
      if (plan) {
        const byUrl = new Map(nodes.map((n) => [n.url, n]));
        const out = new Map<NodeAgentClient, number>();
        for (const [u, n] of plan.perNode) if (n > 0) out.set(byUrl.get(u)!, n);
        return out;
      }
      return fallback.place(fn, nodes);
    },
    groups(fn, node, replicas) {
      const plan = fitting(fn);
      if (!plan?.groups || plan.perNode.get(node.url) !== replicas) return undefined;
      const gs = plan.groups.get(node.url);
      return gs?.map((g) => ({ replicas: g.replicas, annotations: { ...g.annotations } }));
    },
  };
}
