/**
 * The functions of a simulated workload: models in turn from a mix of the calibrated ones, an SLO of
 * 5 × the model's batch-1 latency on a whole device (ResNet-50: 5 × 13.3 ms ≈ 67 ms, close to the
 * published 69 ms), and a base rate of 20–90 % of one saturated whole device (seeded).
 */
import type { ProfileTable } from '../../core/profiles/profile-table.ts';
import { V100_DEVICE_CLASS } from '../../core/profiles/calibration-profiles.ts';
import { saturation } from '../policies/common.ts';
import type { FunctionSpec } from '../types.ts';
import { createRng } from './rng.ts';

export const MODEL_MIX = [
  'v100-resnet50',
  'v100-bert',
  'v100-rnnt',
  'v100-gnmt',
  'resnet101',
  'vgg16',
  'densenet121',
  'mobilenet',
  'inception',
  'resnet152',
];

export const SLO_FACTOR = 5;

export function defaultSloMs(profiles: ProfileTable, model: string): number {
  return Math.round(SLO_FACTOR * profiles.serviceMs(model, 1, 100));
}

export interface WorkloadFunction {
  spec: FunctionSpec;
  /** Mean requests/s the traces modulate. */
  baseRps: number;
}

export function buildWorkload(
  profiles: ProfileTable,
  count: number,
  seed: number,
  opts: { maxReplicas?: number } = {},
): WorkloadFunction[] {
  const rng = createRng(seed ^ 0xa5a5a5);
  return Array.from({ length: count }, (_, i) => {
    const model = MODEL_MIX[i % MODEL_MIX.length]!;
    const sloMs = defaultSloMs(profiles, model);
    const sat = saturation(profiles, model, 100, sloMs).rps;
    return {
      spec: {
        name: `fn-${String(i + 1).padStart(2, '0')}-${model.replace(/^v100-/, '')}`,
        model,
        deviceClass: V100_DEVICE_CLASS,
        sloMs,
        minReplicas: 0,
        maxReplicas: opts.maxReplicas ?? 64,
      },
      baseRps: Math.round(sat * rng.between(0.2, 0.9) * 10) / 10,
    };
  });
}
