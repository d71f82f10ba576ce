/** Fixed spatial partitions (plain MPS): every device split into k equal slots, one replica per slot, first fit. */
import type { DeviceSpec, PlacedReplica, ReplicaConfig } from '../types.ts';
import type { PolicyFactory } from './policy.ts';
import { bounded, counter, makeReplica, memoryWithoutSharing, saturation } from './common.ts';

export function fixedPartitionsPolicy(k: number): PolicyFactory {
  const p = Math.round(100 / k);
  const name = `fixed-${k}x${p}`;
  return {
    name,
    description: `each device pre-split into ${k} × ${p} %; replicas = ceil(rate / sat(m, ${p}%)), first fit`,
    create: () => ({
      name,
      decide(input) {
        const slots = input.devices.map((device) => ({ device, used: 0, memory: 0 }));
        const next = counter();
        const replicas: PlacedReplica[] = [];
        const unplaced: { function: string; config: ReplicaConfig; reason: string }[] = [];
        for (const spec of input.functions) {
          const sat = saturation(input.profiles, spec.model, p, spec.sloMs);
          const n = bounded(spec, Math.ceil((input.demand.get(spec.name) ?? 0) / sat.rps));
          const config = { partitionPercent: p, quota: 1, batch: sat.batch };
          const mem = memoryWithoutSharing(input.profiles.footprint(spec.model));
          for (let i = 0; i < n; i++) {
            const s = slots.find(
              (x) => x.device.deviceClass === spec.deviceClass && x.used < k && x.memory + mem <= x.device.memoryBytes,
            );
            if (!s) {
              unplaced.push({ function: spec.name, config, reason: 'no free partition' });
              continue;
            }
            s.used++;
            s.memory += mem;
            replicas.push(makeReplica(spec, s.device as DeviceSpec, config, sat.rps, next(spec.name)));
          }
        }
        return { replicas, unplaced };
      },
    }),
  };
}
