/**
 * Pushes one function's desired state to the nodes: the placement says how many replicas each
 * node runs (and, when it plans them, in which replica groups); nodes given none that still host
 * the function drop it. With zero replicas the spec still goes to one node, so the image is
 * checked and the function stays known there.
 */
import type { FunctionSpec, NodeAgentClient } from '../../core/contracts/node-agent.ts';
import type { Placement } from './placement.ts';
import { PlatformError } from '../../core/errors.ts';

export interface Rollout {
  /** Throws the first node error (after trying every node). */
  apply(
    spec: FunctionSpec,
    replicas: number,
    opts: { nodes: readonly NodeAgentClient[]; hosts: readonly NodeAgentClient[] },
  ): Promise<void>;
  /** Removes the function from every given node; returns the errors instead of throwing. */
  remove(namespace: string, name: string, nodes: readonly NodeAgentClient[]): Promise<Error[]>;
}

export function createRollout(placement: Placement): Rollout {
  return {
    async apply(spec, replicas, { nodes, hosts }) {
      if (nodes.length === 0) {
        throw new PlatformError(
          'unavailable',
          'no node agent answers; start fast-manager (fastgshare node) and check FASTGSHARE_NODES',
        );
      }
      const assignment = placement.place({ name: spec.name, namespace: spec.namespace, replicas }, nodes);
      if (assignment.size === 0) assignment.set([...nodes].sort((a, b) => a.url.localeCompare(b.url))[0]!, 0);
      const applies = [...assignment].map(([node, count]) => {
        const groups =
          count > 0
            ? placement.groups?.({ name: spec.name, namespace: spec.namespace, replicas }, node, count)
            : undefined;
        return node.applyFunction({ spec, replicas: count, ...(groups ? { groups } : {}) });
      });
      const removals = hosts.filter((h) => !assignment.has(h)).map((h) => h.removeFunction(spec.namespace, spec.name));
      const results = await Promise.allSettled([...applies, ...removals]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    async remove(namespace, name, nodes) {
      const results = await Promise.allSettled(nodes.map((n) => n.removeFunction(namespace, name)));
      return results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
    },
  };
}
