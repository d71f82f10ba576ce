/** Small hand-made profile tables whose numbers the scheduler tests check by hand. */
import { createProfileTable, type ProfileEntry, type ProfileTable } from '../../core/profiles/profile-table.ts';
import type { DeviceSpec, FunctionSpec } from '../../scheduler/types.ts';

export const GB = 1024 ** 3;

export function entry(
  partitionPercent: number,
  quota: number,
  batch: number,
  rps: number,
  latency: number,
  model = 'm',
): ProfileEntry {
  return {
    model,
    deviceClass: 'gpu',
    partitionPercent,
    quota,
    batch,
    rps,
    latencyMs: { p50: latency, p95: latency, p99: latency },
    memoryBytes: 3 * GB,
    source: 'measured',
    serviceMs: latency * quota,
  };
}

/** The planner's table (p, q, b, rps, batch latency ms). */
export const PLANNER_ENTRIES = [
  entry(100, 1, 1, 150, 5), // E1 area 1, eff 150
  entry(50, 1, 4, 400, 10), // E2 area .5, eff 800
  entry(50, 1, 8, 600, 40), // E3 area .5, eff 1200 (needs SLO ≥ 88.9 with the 10 % margin)
  entry(20, 1, 1, 110, 11), // E4 area .2, eff 550
  entry(10, 0.5, 1, 20, 50), // E5 area .05 (2·50 = 100 > 90: infeasible at SLO 100)
  entry(20, 0.5, 1, 40, 25), // E6 area .1, eff 400
];

export function spec(over: Partial<FunctionSpec> = {}): FunctionSpec {
  return { name: 'fn', model: 'm', deviceClass: 'gpu', sloMs: 100, minReplicas: 0, maxReplicas: 100, ...over };
}

/** Service time (5 + 5b) × 100/p ms: at p = 100 and SLO 60, b* = 4 (25 ms), sat = 160 rps. */
export function linearTable(): ProfileTable {
  return createProfileTable({
    entries: [entry(100, 1, 1, 100, 10)],
    footprints: {
      m: { weightsBytes: 1 * GB, replicaBytes: 2 * GB },
      n: { weightsBytes: 1 * GB, replicaBytes: 2 * GB },
    },
    serviceMs: (_m, b, p) => ((5 + 5 * b) * 100) / p,
  });
}

export function devices(n: number, memoryBytes = 16 * GB, perNode = 2): DeviceSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `d${i + 1}`,
    nodeId: `n${Math.floor(i / perNode) + 1}`,
    deviceClass: 'gpu',
    memoryBytes,
  }));
}
