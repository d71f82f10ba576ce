/**
 * Device memory of the calibrated models. Weights = parameter count × 4 bytes (fp32; the published
 * parameter counts of each architecture). Runtime per replica = 1427 MB, FaST-GShare's measured
 * per-replica memory of ResNet-50 when the weights are shared (1525 MB alone, 1427 MB shared;
 * fast-gshare.md §3), used for every model as the CUDA context + workspace of one replica.
 */
import type { ModelFootprint } from './profile-table.ts';

const MB = 1024 * 1024;
export const REPLICA_RUNTIME_BYTES = 1427 * MB;

/** Millions of parameters. */
const PARAMS_M: Record<string, number> = {
  resnet50: 25.6,
  resnet101: 44.5,
  resnet152: 60.2,
  vgg16: 138.4,
  vgg19: 143.7,
  densenet121: 8.0,
  densenet169: 14.1,
  densenet201: 20.0,
  inception: 23.8,
  mobilenet: 3.5,
  bert: 340,
  rnnt: 120,
  gnmt: 160,
};

/** Footprint of a calibration model name (`v100-bert` and `bert` alike). */
export function calibrationFootprint(model: string): ModelFootprint | undefined {
  const params = PARAMS_M[model.replace(/^v100-/, '')];
  if (params === undefined) return undefined;
  return { weightsBytes: Math.round(params * 1e6 * 4), replicaBytes: REPLICA_RUNTIME_BYTES };
}
