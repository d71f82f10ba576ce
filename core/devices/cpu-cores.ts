/**
 * A cpu compute partition as cores: p % of the node's cores, at least one. The node agent pins a
 * replica to them with `taskset -c` (formatCoreList) and the onnx-node runtime uses as many
 * intra-op threads as it has cores.
 */
import { PlatformError } from '../errors.ts';

/** Number of cores a partition of `percent` % of `coreCount` cores gets (at least one). */
export function threadsForPartition(percent: number, coreCount: number): number {
  if (!(percent > 0 && percent <= 100))
    throw new PlatformError('bad_request', `partition must be in (0, 100] percent, got ${percent}`);
  if (!Number.isInteger(coreCount) || coreCount < 1)
    throw new PlatformError('bad_request', `core count must be a positive whole number, got ${coreCount}`);
  return Math.max(1, Math.min(coreCount, Math.round((coreCount * percent) / 100)));
}

/**
 * The cores a replica with a partition of `percent` % of `allCores` is pinned to, taken from
 * `freeCores` (those not yet given to another replica) in order. Throws when too few are free.
 */
export function coresForPartition(
  percent: number,
  allCores: readonly number[],
  freeCores: readonly number[] = allCores,
): number[] {
  const n = threadsForPartition(percent, allCores.length);
  const free = freeCores.filter((c) => allCores.includes(c));
  if (free.length < n) {
    throw new PlatformError(
      'unavailable',
      `a ${percent}% partition needs ${n} of ${allCores.length} cores, only ${free.length} free (${free.join(',') || 'none'})`,
    );
  }
  return free.slice(0, n);
}

/** `taskset -c` list syntax: [0,1,2,5] → "0-2,5". */
export function formatCoreList(cores: readonly number[]): string {
  const sorted = [...new Set(cores)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
