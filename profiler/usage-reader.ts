/**
 * What a trial reads from the node agent besides the contract's calls: the token meters of a
 * replica (`GET /v1/usage`, device-seconds it held) — absent on agents without sharing.
 */
import { PlatformError } from '../core/errors.ts';

export interface UsageReader {
  /** Device-seconds the replica has used so far, or undefined when the agent does not meter it. */
  deviceSeconds(nodeUrl: string, replicaId: string): Promise<number | undefined>;
  /** The token scheduler's window W of the replica's device, or undefined when it is not gated. */
  windowMs(nodeUrl: string, replicaId: string): Promise<number | undefined>;
}

interface UsageBody {
  replicas?: Array<{ replicaId: string; deviceSeconds: number; device?: string }>;
  devices?: Array<{ device: string; windowMs?: number }>;
}

export function createHttpUsageReader(timeoutMs = 5000): UsageReader {
  const read = async (nodeUrl: string): Promise<UsageBody | undefined> => {
    let res: Response;
    try {
      res = await fetch(`${nodeUrl.replace(/\/+$/, '')}/v1/usage`, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new PlatformError('unavailable', `node agent at ${nodeUrl} is unreachable for /v1/usage: ${(err as Error).message}`, { cause: err });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw new PlatformError('unavailable', `node agent at ${nodeUrl} answered ${res.status} to GET /v1/usage`);
    return (await res.json()) as UsageBody;
  };
  return {
    async deviceSeconds(nodeUrl, replicaId) {
      return (await read(nodeUrl))?.replicas?.find((r) => r.replicaId === replicaId)?.deviceSeconds;
    },
    async windowMs(nodeUrl, replicaId) {
      const body = await read(nodeUrl);
      const device = body?.replicas?.find((r) => r.replicaId === replicaId)?.device;
      if (device === undefined) return undefined;
      return body?.devices?.find((d) => d.device === device)?.windowMs;
    },
  };
}
