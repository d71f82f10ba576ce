/** Exclusive device per replica (Kubernetes device-plugin default): ⌈rate / sat(m, 100)⌉ whole devices. */
import type { PolicyFactory } from './policy.ts';
import { bounded, counter, makeReplica, memoryWithoutSharing, saturation } from './common.ts';

export const exclusivePolicy: PolicyFactory = {
  name: 'exclusive',
  description: 'one whole device per replica, replicas = ceil(rate / sat(m, 100%))',
  create: () => ({
    name: 'exclusive',
    decide(input) {
      const free = [...input.devices];
      const next = counter();
      const replicas = [];
      const unplaced = [];
      for (const spec of input.functions) {
        const sat = saturation(input.profiles, spec.model, 100, spec.sloMs);
        const n = bounded(spec, Math.ceil((input.demand.get(spec.name) ?? 0) / sat.rps));
        const config = { partitionPercent: 100, quota: 1, batch: sat.batch };
        const mem = memoryWithoutSharing(input.profiles.footprint(spec.model));
        for (let i = 0; i < n; i++) {
          const at = free.findIndex((d) => d.deviceClass === spec.deviceClass && d.memoryBytes >= mem);
          if (at < 0) {
            unplaced.push({ function: spec.name, config, reason: 'no free device' });
            continue;
          }
          const [d] = free.splice(at, 1);
          replicas.push(makeReplica(spec, d!, config, sat.rps, next(spec.name)));
        }
      }
      return { replicas, unplaced };
    },
  }),
};
