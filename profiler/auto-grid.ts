/**
 * The short grid of the auto-scaler's sweeps, so that profiling a stack nobody asked to profile
 * takes minutes, not an hour: on the 2-core node the full default grid of the example stack is 190
 * trials of 20 s (~76 min of both cores), this one 4 trials of 6 s per function. It keeps the ends
 * of the axes a trial can measure quickly: the device's smallest and largest partition (and one
 * between when it has more than two) and batch 1 and the function's max batch, at quota 1. A quota
 * below 1 is left to the fit (throughput in proportion to the quota, interpolate.ts): measuring one
 * means saturating the replica for a whole token window and then loading it for at least another
 * (trial.ts), 25 s and more per trial with the default window, where a quota-1 trial takes ~8 s.
 * A person who wants every cell measured asks for the full grid: `fastgshare profile <fn>`.
 */
import type { DeviceKind } from '../core/contracts/devices.ts';
import { defaultGrid, type SweepGrid } from './grid.ts';

/** Load time of one automatic trial, s (a person's sweep uses FASTGSHARE_PROFILER_TRIAL_SECONDS). */
export const AUTO_TRIAL_SECONDS = 6;
export const AUTO_QUOTAS = [1];

const ends = (xs: number[]): number[] => {
  if (xs.length <= 2) return [...xs];
  return [...new Set([xs[0]!, xs[Math.floor((xs.length - 1) / 2)]!, xs[xs.length - 1]!])];
};

export function autoGrid(device: DeviceKind, cpus: number, maxBatch: number): SweepGrid {
  const full = defaultGrid(device, cpus, maxBatch);
  return {
    partitions: ends(full.partitions),
    quotas: [...AUTO_QUOTAS],
    batches: [...new Set([1, Math.max(1, maxBatch)])],
  };
}
