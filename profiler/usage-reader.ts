/**
 * What a trial reads from the node agent besides the contract's replica calls: the token meters of
 * a replica (`GET /v1/usage` through the agent's client, with its token: device-seconds it held) —
 * absent on agents without sharing. The body is the contract's NodeUsage, checked by the client's `usage()`.
 */
import type { NodeAgentClient } from '../core/contracts/node-agent.ts';
import type { NodeUsage } from '../core/contracts/node-usage.ts';

export interface UsageReader {
  /** Device-seconds the replica has used so far, or undefined when the agent does not meter it. */
  deviceSeconds(node: NodeAgentClient, replicaId: string): Promise<number | undefined>;
  /** The token scheduler's window W of the replica's device, or undefined when it is not gated. */
  windowMs(node: NodeAgentClient, replicaId: string): Promise<number | undefined>;
}

export function createHttpUsageReader(): UsageReader {
  const replicaOf = (usage: NodeUsage | undefined, replicaId: string) =>
    usage?.replicas.find((r) => r.replicaId === replicaId);
  return {
    async deviceSeconds(node, replicaId) {
      return replicaOf(await node.usage(), replicaId)?.deviceSeconds;
    },
    async windowMs(node, replicaId) {
      const usage = await node.usage();
      const device = replicaOf(usage, replicaId)?.device;
      if (device === undefined) return undefined;
      return usage?.devices.find((d) => d.device === device)?.windowMs;
    },
  };
}
