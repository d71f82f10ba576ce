/**
 * Profiled capacity (requests/s) of each function's replicas, for the weighted balancer. A
 * replica is weighed by its own configuration: a value set for its id wins; then, for a replica
 * of a replica group (ReplicaStatus.group), the capacity of that group's configuration (so the
 * plan's cheaper residual replica gets proportionally less traffic); then, for a replica without
 * a group, the function's value. Unknown → undefined (the balancer then weighs replicas equally).
 */
import type { ReplicaStatus } from '../../core/contracts/node-agent.ts';
import type { ReplicaCapacities } from '../proxy/balancer.ts';

export interface CapacityBook extends ReplicaCapacities {
  /**
   * The function's capacities: `rps` for replicas without a group, `byGroup` for replicas of each
   * replica group (by ReplicaStatus.group.key). Undefined `rps` and no `byGroup` forget it.
   */
  setFunction(key: string, rps: number | undefined, byGroup?: ReadonlyMap<string, number>): void;
  setReplica(replicaId: string, rps: number | undefined): void;
}

const usable = (v: number | undefined): v is number => v !== undefined && v > 0 && Number.isFinite(v);

export function createCapacityBook(): CapacityBook {
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, ReadonlyMap<string, number>>();
  const byReplica = new Map<string, number>();
  const put = (m: Map<string, number>, k: string, v: number | undefined) => (usable(v) ? m.set(k, v) : m.delete(k));
  return {
    of(key: string, r: ReplicaStatus) {
      const own = byReplica.get(r.id);
      if (own !== undefined) return own;
      if (r.group) return byGroup.get(key)?.get(r.group.key);
      return byFunction.get(key);
    },
    setFunction(key, rps, groups) {
      put(byFunction, key, rps);
      if (groups && groups.size) byGroup.set(key, new Map([...groups].filter(([, v]) => usable(v))));
      else byGroup.delete(key);
    },
    setReplica: (id, rps) => void put(byReplica, id, rps),
  };
}
