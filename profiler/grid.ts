/**
 * The configurations a sweep tries: partition × quota × batch. Defaults follow FaST-GShare
 * (quota 0.2…1.0 × SM partitions 6…100 %) adapted to the device: on cpu a partition is a share
 * of the node's cores, so only the whole-core shares exist (50 / 100 % on 2 cores); batches are
 * powers of two up to the function's max batch. Trials are numbered in a fixed order, so a
 * resumed sweep finds the same trial under the same index.
 */
import { z } from 'zod';
import { PlatformError } from '../core/errors.ts';
import { ANNOTATION_RANGES } from '../core/contracts/annotations.ts';
import type { DeviceKind } from '../core/contracts/devices.ts';
import { QUOTA_GRID } from '../core/profiles/calibration-profiles.ts';
import type { ReplicaConfig } from '../core/profiles/profile-table.ts';

export interface SweepGrid {
  partitions: number[];
  quotas: number[];
  batches: number[];
}

export const EMULATED_PARTITIONS = [6, 12, 24, 50, 60, 80, 100];

const R = ANNOTATION_RANGES;
/**
 * The ranges of the annotations a trial sets from each value (core/contracts/annotations.ts); a partition need only be
 * above 0 here.
 */
const GridSchema = z.strictObject({
  partitions: z.array(z.number().gt(0).max(R.partition.max)).min(1).max(32).optional(),
  quotas: z.array(z.number().gt(R.quotaLimit.min).max(R.quotaLimit.max)).min(1).max(32).optional(),
  batches: z.array(z.number().int().min(R.maxBatch.min).max(R.maxBatch.max)).min(1).max(16).optional(),
});
export type GridOverride = z.infer<typeof GridSchema>;

/** Partitions a device offers: on cpu the whole-core shares of the node. */
export function defaultPartitions(device: DeviceKind, cpus: number): number[] {
  if (device !== 'cpu') return [...EMULATED_PARTITIONS];
  const n = Math.max(1, Math.floor(cpus));
  return Array.from({ length: n }, (_, i) => Math.round(((i + 1) / n) * 10000) / 100);
}

/** Powers of two up to (and including) the function's max batch. */
export function defaultBatches(maxBatch: number): number[] {
  const out: number[] = [];
  for (let b = 1; b < maxBatch; b *= 2) out.push(b);
  out.push(maxBatch);
  return out;
}

export function defaultGrid(device: DeviceKind, cpus: number, maxBatch: number): SweepGrid {
  return { partitions: defaultPartitions(device, cpus), quotas: [...QUOTA_GRID], batches: defaultBatches(maxBatch) };
}

/** Validates a grid given in a request; a bad one is a 400 naming the field. */
export function parseGridOverride(raw: unknown): GridOverride {
  const r = GridSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new PlatformError(
      'bad_request',
      `grid.${issue.path.join('.') || '(root)'}: ${issue.message}; expected {"partitions":[50,100],"quotas":[0.2,…,1],"batches":[1,2,4]}`,
      { details: { field: `grid.${issue.path.join('.')}` } },
    );
  }
  return r.data;
}

export function resolveGrid(base: SweepGrid, override: GridOverride, maxBatch: number): SweepGrid {
  const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  const grid = {
    partitions: uniq(override.partitions ?? base.partitions),
    quotas: uniq(override.quotas ?? base.quotas),
    batches: uniq(override.batches ?? base.batches),
  };
  const tooBig = grid.batches.find((b) => b > maxBatch);
  if (tooBig !== undefined)
    throw new PlatformError(
      'bad_request',
      `grid.batches: ${tooBig} is above the function's max batch (${maxBatch}, annotation fastgshare/max_batch)`,
      { details: { field: 'grid.batches' } },
    );
  return grid;
}

/** Every configuration, partition-major, then quota, then batch. */
export function trialConfigs(grid: SweepGrid): ReplicaConfig[] {
  const out: ReplicaConfig[] = [];
  for (const partitionPercent of grid.partitions)
    for (const quota of grid.quotas) for (const batch of grid.batches) out.push({ partitionPercent, quota, batch });
  return out;
}

/** The throwaway function a trial runs as, so live traffic of `<fn>` is untouched. */
export function trialFunctionName(fn: string, index: number): string {
  const suffix = `--prof-${index}`;
  return `${fn.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/** True for the name of a trial function (kept on the nodes although the store does not know it). */
export function isTrialFunctionName(name: string): boolean {
  return /--prof-\d+$/.test(name);
}
