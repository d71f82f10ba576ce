/**
 * gpulet-like elastic partitioning: partitions {20, 40, 50, 60, 80, 100} %, at most two per device.
 * Knee partition of a model = the upper end of the adjacent step with the largest throughput gain
 * per % among steps that gain ≥ 5 % (the smallest size when none does). ⌊rate / sat(knee)⌋ saturated
 * gpu-lets, then one residual gpu-let of the smallest size whose sat covers the rest; best fit on the
 * free part of a half-used device, else a fresh device split into p and 100 − p.
 * (Their interference model needs L2/DRAM counters per pair; the simulator has none, so it is left out.)
 */
import type { DeviceSpec, FunctionSpec, PlacedReplica, ReplicaConfig } from '../types.ts';
import type { PolicyFactory } from './policy.ts';
import { counter, makeReplica, memoryWithoutSharing, saturation, type Saturation } from './common.ts';
import type { ProfileTable } from '../../core/profiles/profile-table.ts';

export const GPULET_PARTITIONS = [20, 40, 50, 60, 80, 100];

export function kneePartition(profiles: ProfileTable, spec: FunctionSpec): number {
  const sats = GPULET_PARTITIONS.map((p) => saturation(profiles, spec.model, p, spec.sloMs).rps);
  let knee = GPULET_PARTITIONS[0]!;
  let bestSlope = -Infinity;
  for (let i = 1; i < GPULET_PARTITIONS.length; i++) {
    if (sats[i]! < sats[i - 1]! * 1.05) continue;
    const slope = (sats[i]! - sats[i - 1]!) / (GPULET_PARTITIONS[i]! - GPULET_PARTITIONS[i - 1]!);
    if (slope > bestSlope) ((bestSlope = slope), (knee = GPULET_PARTITIONS[i]!));
  }
  return knee;
}

interface Slotted {
  device: DeviceSpec;
  used: number[];
  memory: number;
}

export const gpuletPolicy: PolicyFactory = {
  name: 'gpulet',
  description: 'gpulet elastic partitions (knee size, residual gpu-let, at most 2 per device, best fit)',
  create: () => ({
    name: 'gpulet',
    decide(input) {
      const { profiles } = input;
      const devs: Slotted[] = input.devices.map((device) => ({ device, used: [], memory: 0 }));
      const next = counter();
      const replicas: PlacedReplica[] = [];
      const unplaced: { function: string; config: ReplicaConfig; reason: string }[] = [];
      const items: { spec: FunctionSpec; p: number; sat: Saturation }[] = [];
      for (const spec of input.functions) {
        const rate = input.demand.get(spec.name) ?? 0;
        const knee = kneePartition(profiles, spec);
        const kSat = saturation(profiles, spec.model, knee, spec.sloMs);
        const n = Math.min(spec.maxReplicas, Math.floor(rate / kSat.rps));
        for (let i = 0; i < n; i++) items.push({ spec, p: knee, sat: kSat });
        let rest = rate - n * kSat.rps;
        if (n < spec.maxReplicas && (rest > 1e-9 || n < spec.minReplicas)) {
          rest = Math.max(rest, 0);
          const p = GPULET_PARTITIONS.find((x) => saturation(profiles, spec.model, x, spec.sloMs).rps >= rest) ?? knee;
          items.push({ spec, p, sat: saturation(profiles, spec.model, p, spec.sloMs) });
        }
      }
      items.sort((a, b) => b.p - a.p || a.spec.name.localeCompare(b.spec.name));
      for (const it of items) {
        const mem = memoryWithoutSharing(profiles.footprint(it.spec.model));
        let best: Slotted | undefined;
        let bestLeft = Infinity;
        let fresh: Slotted | undefined;
        for (const d of devs) {
          if (d.device.deviceClass !== it.spec.deviceClass || d.memory + mem > d.device.memoryBytes) continue;
          if (d.used.length === 0) {
            fresh ??= d;
            continue;
          }
          const left = 100 - d.used.reduce((s, x) => s + x, 0) - it.p;
          if (d.used.length < 2 && left >= 0 && left < bestLeft) ((best = d), (bestLeft = left));
        }
        const t = best ?? fresh;
        const config = { partitionPercent: it.p, quota: 1, batch: it.sat.batch };
        if (!t) {
          unplaced.push({ function: it.spec.name, config, reason: 'no device with a free gpu-let' });
          continue;
        }
        t.used.push(it.p);
        t.memory += mem;
        replicas.push(makeReplica(it.spec, t.device, config, it.sat.rps, next(it.spec.name)));
      }
      return { replicas, unplaced };
    },
  }),
};
