/**
 * A node agent as a source of metered usage: its token meter's per-function totals
 * (`GET /v1/usage`, monotonic while the agent runs) and its replicas' memory
 * (`GET /v1/functions`). An agent without device sharing answers 404 on /v1/usage: no usage.
 */
import type { FunctionReplicas, NodeAgentClient } from '../../core/contracts/node-agent.ts';

export interface FunctionDeviceTotals {
  /** `name.namespace` */
  function: string;
  deviceSeconds: number;
  reservedDeviceSeconds: number;
}

export interface DeviceTotals {
  /** The agent's run: a different id means it restarted and its counters began again from zero. */
  bootId?: string;
  functions: FunctionDeviceTotals[];
}

export interface UsageSource {
  readonly url: string;
  deviceTotals(): Promise<DeviceTotals>;
  replicas(): Promise<FunctionReplicas[]>;
}

export function createHttpUsageSource(node: NodeAgentClient): UsageSource {
  const base = node.url.replace(/\/+$/, '');
  return {
    url: base,
    async deviceTotals() {
      // the client sends the agent's token; unreachable and refused agents are `unavailable`
      // (the client checks the body against the contract: a malformed one is `unavailable` there)
      const body = await node.usage();
      if (!body) return { functions: [] };
      const functions = body.functions
        .filter((f) => Number.isFinite(f.deviceSeconds) && Number.isFinite(f.reservedDeviceSeconds))
        .map((f) => ({
          function: f.function,
          deviceSeconds: f.deviceSeconds,
          reservedDeviceSeconds: f.reservedDeviceSeconds,
        }));
      return { functions, ...(body.bootId ? { bootId: body.bootId } : {}) };
    },
    replicas: () => node.listFunctions(),
  };
}
