/**
 * The scheduler benchmark's packing workload (bench/scheduler.ts and its regression test): `count`
 * functions over the calibrated models in turn (SLO 5 × batch-1 latency), demands drawn
 * log-uniformly between 0.3 and 6 efficient replicas' worth (seeded) and then scaled so that the
 * lower bound Σ demand × area(eff) / rps(eff) is exactly `boundDevices` devices. With many
 * functions the scaling makes each demand small next to one replica (see scheduler/README.md).
 */
import { V100_DEVICE_CLASS } from '../../core/profiles/calibration-profiles.ts';
import type { ProfileTable } from '../../core/profiles/profile-table.ts';
import { saturatedCandidates } from '../feasibility.ts';
import { deviceLowerBound, type DeviceBound } from '../lower-bound.ts';
import { DEFAULT_PLANNER_OPTIONS } from '../planner.ts';
import type { FunctionSpec } from '../types.ts';
import { createRng } from './rng.ts';
import { defaultSloMs, MODEL_MIX } from './workload.ts';

export interface BoundWorkload {
  functions: FunctionSpec[];
  demand: Map<string, number>;
  bound: DeviceBound;
}

export function boundWorkload(
  profiles: ProfileTable,
  count: number,
  boundDevices: number,
  seed: number,
): BoundWorkload {
  const rng = createRng(seed);
  const functions: FunctionSpec[] = Array.from({ length: count }, (_, i) => {
    const model = MODEL_MIX[i % MODEL_MIX.length]!;
    return {
      name: `f${i}`,
      model,
      deviceClass: V100_DEVICE_CLASS,
      sloMs: defaultSloMs(profiles, model),
      minReplicas: 0,
      maxReplicas: 1000,
    };
  });
  const raw = new Map(
    functions.map((f) => {
      const eff = saturatedCandidates(
        profiles.entries(f.model, f.deviceClass),
        f.sloMs * (1 - DEFAULT_PLANNER_OPTIONS.sloMargin),
      ).candidates[0]!;
      return [f.name, eff.rps * Math.exp(rng.between(Math.log(0.3), Math.log(6)))] as const;
    }),
  );
  const scale = boundDevices / deviceLowerBound(functions, raw, profiles).area;
  const demand = new Map([...raw].map(([k, v]) => [k, v * scale]));
  return { functions, demand, bound: deviceLowerBound(functions, demand, profiles) };
}
