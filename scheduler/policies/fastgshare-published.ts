/**
 * FaST-GShare as published: the most efficient profiled configuration (rps / (quota × SM %), batch 1,
 * no SLO check) scaled out ⌊rate / rps⌋ times, one residual replica of the smallest-area
 * configuration that covers the rest, MaxRects best-area fit of quota × SM rectangles per device
 * (a new device only when nothing fits), with model sharing of weights.
 */
import { configArea, type ProfileEntry } from '../../core/profiles/profile-table.ts';
import type { DeviceSpec, FunctionSpec, PlacedReplica, ReplicaConfig } from '../types.ts';
import type { PolicyFactory } from './policy.ts';
import { MaxRectsBin } from '../maxrects.ts';
import { counter, makeReplica } from './common.ts';

interface Bin {
  device: DeviceSpec;
  rects: MaxRectsBin;
  memory: number;
  models: Set<string>;
}

export const fastgsharePublishedPolicy: PolicyFactory = {
  name: 'fastgshare-published',
  description: 'FaST-GShare as published: most efficient batch-1 config + one residual, no SLO check, MaxRects',
  create: () => ({
    name: 'fastgshare-published',
    decide(input) {
      const { profiles } = input;
      const bins: Bin[] = input.devices.map((device) => ({
        device,
        rects: new MaxRectsBin(),
        memory: 0,
        models: new Set(),
      }));
      const next = counter();
      const replicas: PlacedReplica[] = [];
      const unplaced: { function: string; config: ReplicaConfig; reason: string }[] = [];
      const items: { spec: FunctionSpec; e: ProfileEntry }[] = [];
      for (const spec of input.functions) {
        const rows = profiles.entries(spec.model, spec.deviceClass).filter((e) => e.batch === 1);
        if (rows.length === 0) continue;
        const eff = rows.reduce((a, b) => (b.rps / configArea(b) > a.rps / configArea(a) ? b : a));
        const rate = input.demand.get(spec.name) ?? 0;
        const n = Math.min(spec.maxReplicas, Math.floor(rate / eff.rps));
        for (let i = 0; i < n; i++) items.push({ spec, e: eff });
        const rest = rate - n * eff.rps;
        if (n < spec.maxReplicas && (rest > 1e-9 || n < spec.minReplicas)) {
          const cover = rows.filter((e) => e.rps >= rest);
          const res = cover.length ? cover.reduce((a, b) => (configArea(b) < configArea(a) ? b : a)) : eff;
          items.push({ spec, e: res });
        }
      }
      items.sort((a, b) => configArea(b.e) - configArea(a.e) || a.spec.name.localeCompare(b.spec.name));
      for (const { spec, e } of items) {
        const w = Math.round(e.quota * 1000);
        const h = e.partitionPercent;
        const fp = profiles.footprint(spec.model);
        let best: Bin | undefined;
        let bestLeft = Infinity;
        for (const b of bins) {
          if (b.device.deviceClass !== spec.deviceClass) continue;
          const mem = fp.replicaBytes + (b.models.has(spec.model) ? 0 : fp.weightsBytes);
          if (b.memory + mem > b.device.memoryBytes) continue;
          const f = b.rects.fit(w, h);
          if (!f) continue;
          // Best fit across devices: an open device with the least leftover beats an empty one.
          const score = (b.rects.used === 0 ? 1e9 : 0) + f.leftover;
          if (score < bestLeft) ((best = b), (bestLeft = score));
        }
        const config = { partitionPercent: e.partitionPercent, quota: e.quota, batch: 1 };
        if (!best) {
          unplaced.push({ function: spec.name, config, reason: 'no device has room' });
          continue;
        }
        best.rects.insert(w, h);
        best.memory += fp.replicaBytes + (best.models.has(spec.model) ? 0 : fp.weightsBytes);
        best.models.add(spec.model);
        replicas.push(makeReplica(spec, best.device, config, e.rps, next(spec.name)));
      }
      return { replicas, unplaced };
    },
  }),
};
