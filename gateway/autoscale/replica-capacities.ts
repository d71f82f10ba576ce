/**
 * Profiled capacity (requests/s) of each function's replicas, for the weighted balancer. A value
 * set for one replica id wins over the function's value (all its replicas run the same
 * configuration today). Unknown → undefined (the balancer then weighs replicas equally).
 */
import type { ReplicaStatus } from '../../core/contracts/node-agent.ts';
import type { ReplicaCapacities } from '../proxy/balancer.ts';

export interface CapacityBook extends ReplicaCapacities {
  setFunction(key: string, rps: number | undefined): void;
  setReplica(replicaId: string, rps: number | undefined): void;
}

export function createCapacityBook(): CapacityBook {
  const byFunction = new Map<string, number>();
  const byReplica = new Map<string, number>();
  const put = (m: Map<string, number>, k: string, v: number | undefined) => (v !== undefined && v > 0 && Number.isFinite(v) ? m.set(k, v) : m.delete(k));
  return {
    of: (key: string, r: ReplicaStatus) => byReplica.get(r.id) ?? byFunction.get(key),
    setFunction: (key, rps) => void put(byFunction, key, rps),
    setReplica: (id, rps) => void put(byReplica, id, rps),
  };
}
