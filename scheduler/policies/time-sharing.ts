/**
 * Time sharing only (KubeShare/Gemini): every replica on the whole device (p = 100 %);
 * replicas = ⌈rate / sat(m, 100)⌉, each with quota request min(1, its rate · ℓ(b*, 100) / b*);
 * best fit on Σ quota ≤ 1 and Σ memory ≤ capacity per device (no model sharing).
 */
import type { DeviceSpec, PlacedReplica, ReplicaConfig } from '../types.ts';
import type { PolicyFactory } from './policy.ts';
import { bounded, counter, makeReplica, memoryWithoutSharing, saturation } from './common.ts';

export const MIN_TIME_QUOTA = 0.05;

interface Bin {
  device: DeviceSpec;
  quota: number;
  memory: number;
}

/** Best fit of (quota, memory) items on whole devices; shared with the published-test scenario. */
export function timeSharingBins(devices: readonly DeviceSpec[]) {
  const bins: Bin[] = devices.map((device) => ({ device, quota: 0, memory: 0 }));
  return {
    place(deviceClass: string, quota: number, memory: number): DeviceSpec | undefined {
      let best: Bin | undefined;
      let bestLeft = Infinity;
      let empty: Bin | undefined;
      for (const b of bins) {
        if (
          b.device.deviceClass !== deviceClass ||
          b.quota + quota > 1 + 1e-9 ||
          b.memory + memory > b.device.memoryBytes
        )
          continue;
        if (b.quota === 0) {
          empty ??= b;
          continue;
        }
        const left = 1 - b.quota - quota;
        if (left < bestLeft) ((best = b), (bestLeft = left));
      }
      const t = best ?? empty;
      if (!t) return undefined;
      t.quota += quota;
      t.memory += memory;
      return t.device;
    },
  };
}

export const timeSharingPolicy: PolicyFactory = {
  name: 'time-sharing',
  description: 'whole-device replicas time-shared by quota (one token holder at a time), best fit on sum of quotas',
  create: () => ({
    name: 'time-sharing',
    decide(input) {
      const bins = timeSharingBins(input.devices);
      const next = counter();
      const replicas: PlacedReplica[] = [];
      const unplaced: { function: string; config: ReplicaConfig; reason: string }[] = [];
      const items = input.functions.flatMap((spec) => {
        const rate = input.demand.get(spec.name) ?? 0;
        const sat = saturation(input.profiles, spec.model, 100, spec.sloMs);
        const n = bounded(spec, Math.ceil(rate / sat.rps));
        const quota = Math.max(
          MIN_TIME_QUOTA,
          Math.min(1, ((n > 0 ? rate / n : 0) * sat.latencyMs) / sat.batch / 1000),
        );
        const q = Math.round(quota * 1000) / 1000;
        return Array.from({ length: n }, () => ({
          spec,
          config: { partitionPercent: 100, quota: q, batch: sat.batch },
          cap: sat.rps * q,
        }));
      });
      items.sort((a, b) => b.config.quota - a.config.quota);
      for (const it of items) {
        const d = bins.place(
          it.spec.deviceClass,
          it.config.quota,
          memoryWithoutSharing(input.profiles.footprint(it.spec.model)),
        );
        if (!d)
          unplaced.push({ function: it.spec.name, config: it.config, reason: 'no device with quota and memory left' });
        else replicas.push(makeReplica(it.spec, d, it.config, it.cap, next(it.spec.name)));
      }
      return { replicas, unplaced };
    },
  }),
};
