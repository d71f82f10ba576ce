/**
 * What a trial reads from the node agent besides the contract's replica calls: the token meters of
 * a replica (`GET /v1/usage` through the agent's client, with its token: device-seconds it held) —
 * absent on agents without sharing.
 */
import type { NodeAgentClient } from '../core/contracts/node-agent.ts';

export interface UsageReader {
  /** Device-seconds the replica has used so far, or undefined when the agent does not meter it. */
  deviceSeconds(node: NodeAgentClient, replicaId: string): Promise<number | undefined>;
  /** The token scheduler's window W of the replica's device, or undefined when it is not gated. */
  windowMs(node: NodeAgentClient, replicaId: string): Promise<number | undefined>;
}

interface UsageBody {
  replicas?: Array<{ replicaId: string; deviceSeconds: number; device?: string }>;
  devices?: Array<{ device: string; windowMs?: number }>;
}

export function createHttpUsageReader(): UsageReader {
  const read = async (node: NodeAgentClient) => (await node.usage()) as UsageBody | undefined;
  return {
    async deviceSeconds(node, replicaId) {
      return (await read(node))?.replicas?.find((r) => r.replicaId === replicaId)?.deviceSeconds;
    },
    async windowMs(node, replicaId) {
      const body = await read(node);
      const device = body?.replicas?.find((r) => r.replicaId === replicaId)?.device;
      if (device === undefined) return undefined;
      return body?.devices?.find((d) => d.device === device)?.windowMs;
    },
  };
}
