/**
 * Nexus-like squishy bin packing (whole-device time sharing):
 * - saturated: ⌊rate / sat(m, 100)⌋ whole devices at b*, duty ℓ(b*);
 * - residual sessions (rate r) in descending rate: batch b = largest with (b−1)/r + ℓ(b) ≤ SLO,
 *   max duty d = b / r; on a device the duty cycle D = min over members of d; member batch = ⌈D·r⌉;
 *   a device is feasible if Σ ℓ(batch) ≤ D; the feasible device with the highest occupancy Σℓ/D wins,
 *   else a new device. Each member becomes a replica with quota ℓ(batch)/D and batch `batch`.
 */
import { BATCH_GRID } from '../../core/profiles/calibration-profiles.ts';
import type { ProfileTable } from '../../core/profiles/profile-table.ts';
import type { DeviceSpec, FunctionSpec, PlacedReplica, ReplicaConfig } from '../types.ts';
import type { PolicyFactory } from './policy.ts';
import { bounded, counter, makeReplica, memoryWithoutSharing, saturation } from './common.ts';

interface Session {
  spec: FunctionSpec;
  rate: number;
  maxDutyMs: number;
}

interface NexusDevice {
  device: DeviceSpec;
  dutyMs: number;
  members: Session[];
  memory: number;
}

function residualBatch(profiles: ProfileTable, s: FunctionSpec, rate: number): number {
  let best = 1;
  for (const b of BATCH_GRID) if (((b - 1) / rate) * 1000 + profiles.serviceMs(s.model, b, 100) <= s.sloMs) best = b;
  return best;
}

/** Member batches and total busy time of a device with duty cycle D. */
function load(profiles: ProfileTable, members: Session[], dutyMs: number) {
  const batches = members.map((m) => Math.max(1, Math.ceil((dutyMs / 1000) * m.rate)));
  const busy = members.reduce((s, m, i) => s + profiles.serviceMs(m.spec.model, batches[i]!, 100), 0);
  return { batches, busy };
}

export const nexusPolicy: PolicyFactory = {
  name: 'nexus',
  description: 'Nexus squishy bin packing: saturated whole devices, residual sessions merged by duty cycle',
  create: () => ({
    name: 'nexus',
    decide(input) {
      const { profiles } = input;
      const free = [...input.devices];
      const next = counter();
      const replicas: PlacedReplica[] = [];
      const unplaced: { function: string; config: ReplicaConfig; reason: string }[] = [];
      const residual: Session[] = [];
      const take = (spec: FunctionSpec, mem: number) => {
        const at = free.findIndex((d) => d.deviceClass === spec.deviceClass && d.memoryBytes >= mem);
        return at < 0 ? undefined : free.splice(at, 1)[0];
      };
      for (const spec of input.functions) {
        const rate = input.demand.get(spec.name) ?? 0;
        const sat = saturation(profiles, spec.model, 100, spec.sloMs);
        let n = Math.floor(rate / sat.rps);
        let rest = rate - n * sat.rps;
        if (n + (rest > 1e-9 ? 1 : 0) < spec.minReplicas) rest = Math.max(rest, 1e-3);
        n = Math.min(n, spec.maxReplicas);
        const config = { partitionPercent: 100, quota: 1, batch: sat.batch };
        for (let i = 0; i < n; i++) {
          const d = take(spec, memoryWithoutSharing(profiles.footprint(spec.model)));
          if (!d) unplaced.push({ function: spec.name, config, reason: 'no free device' });
          else replicas.push(makeReplica(spec, d, config, sat.rps, next(spec.name)));
        }
        if (rest > 1e-9 && bounded(spec, n + 1) > n) {
          const b = residualBatch(profiles, spec, rest);
          residual.push({ spec, rate: rest, maxDutyMs: (b / rest) * 1000 });
        }
      }
      residual.sort((a, b) => b.rate - a.rate || a.spec.name.localeCompare(b.spec.name));
      const devices: NexusDevice[] = [];
      for (const s of residual) {
        const mem = memoryWithoutSharing(profiles.footprint(s.spec.model));
        let best: NexusDevice | undefined;
        let bestOcc = -1;
        for (const d of devices) {
          if (d.device.deviceClass !== s.spec.deviceClass || d.memory + mem > d.device.memoryBytes) continue;
          const duty = Math.min(d.dutyMs, s.maxDutyMs);
          const { busy } = load(profiles, [...d.members, s], duty);
          if (busy > duty) continue;
          if (busy / duty > bestOcc) ((best = d), (bestOcc = busy / duty));
        }
        if (best) {
          best.members.push(s);
          best.dutyMs = Math.min(best.dutyMs, s.maxDutyMs);
          best.memory += mem;
          continue;
        }
        const dev = take(s.spec, mem);
        if (!dev) {
          unplaced.push({
            function: s.spec.name,
            config: { partitionPercent: 100, quota: 1, batch: 1 },
            reason: 'no free device for a residual session',
          });
          continue;
        }
        devices.push({ device: dev, dutyMs: s.maxDutyMs, members: [s], memory: mem });
      }
      for (const d of devices) {
        const { batches } = load(profiles, d.members, d.dutyMs);
        d.members.forEach((m, i) => {
          const l = profiles.serviceMs(m.spec.model, batches[i]!, 100);
          const quota = Math.min(1, Math.max(0.01, Math.round((l / d.dutyMs) * 1000) / 1000));
          replicas.push(
            makeReplica(
              m.spec,
              d.device,
              { partitionPercent: 100, quota, batch: batches[i]! },
              (batches[i]! / d.dutyMs) * 1000,
              next(m.spec.name),
            ),
          );
        });
      }
      return { replicas, unplaced };
    },
  }),
};
