/** Helpers the baseline policies share: b*, saturated throughput, and a plain memory check. */
import { BATCH_GRID } from '../../core/profiles/calibration-profiles.ts';
import type { ModelFootprint, ProfileTable } from '../../core/profiles/profile-table.ts';
import type { DeviceSpec, FunctionSpec, PlacedReplica, ReplicaConfig } from '../types.ts';

export interface Saturation {
  batch: number;
  /** ℓ(b*, p) at full time share, ms. */
  latencyMs: number;
  /** b* / ℓ(b*, p): requests/s of one saturated replica. */
  rps: number;
  /** False when even batch 1 misses the SLO (b* = 1 is used anyway). */
  meetsSlo: boolean;
}

/** b*(m, p) = largest b with 2·ℓ(b, p) ≤ SLO, and sat(m, p). */
export function saturation(profiles: ProfileTable, model: string, partitionPercent: number, sloMs: number): Saturation {
  let best: Saturation | undefined;
  for (const b of BATCH_GRID) {
    const l = profiles.serviceMs(model, b, partitionPercent);
    if (2 * l <= sloMs) best = { batch: b, latencyMs: l, rps: (b * 1000) / l, meetsSlo: true };
  }
  if (best) return best;
  const l = profiles.serviceMs(model, 1, partitionPercent);
  return { batch: 1, latencyMs: l, rps: 1000 / l, meetsSlo: false };
}

/** Replica count within the function's bounds; none when there is no demand and no minimum. */
export function bounded(spec: FunctionSpec, n: number): number {
  return Math.max(spec.minReplicas, Math.min(spec.maxReplicas, n));
}

export function makeReplica(
  spec: FunctionSpec,
  device: DeviceSpec,
  config: ReplicaConfig,
  capacityRps: number,
  index: number,
): PlacedReplica {
  return {
    id: `${spec.name}-${index}`,
    function: spec.name,
    model: spec.model,
    deviceId: device.id,
    nodeId: device.nodeId,
    config,
    capacityRps,
  };
}

/** Memory of replicas without model sharing (each replica loads its own weights). */
export function memoryWithoutSharing(fp: ModelFootprint): number {
  return fp.weightsBytes + fp.replicaBytes;
}

/** Numbers replicas per function in the order they are made. */
export function counter(): (fn: string) => number {
  const n = new Map<string, number>();
  return (fn) => {
    const i = (n.get(fn) ?? 0) + 1;
    n.set(fn, i);
    return i;
  };
}
