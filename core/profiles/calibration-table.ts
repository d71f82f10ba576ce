/**
 * Profiled GPU latency ℓ(model, batch, partition) from the tables in `calibration/` (see its README
 * for the sources and the batch-scaling rule for models measured at batch 1 only).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { PlatformError } from '../errors.ts';

/** The platform's calibration/ folder (found through the `fastgshare` package, also from inside a bundle). */
export const DEFAULT_CALIBRATION_DIR = join(
  dirname(createRequire(import.meta.url).resolve('fastgshare/package.json')),
  'calibration',
);

/** Latency samples of one model: partition % → batch → ms. */
type Grid = Map<number, Map<number, number>>;

export interface LatencyTable {
  models(): string[];
  /** Milliseconds one batch of `batch` items takes on `partitionPercent` % of the device. */
  latencyMs(model: string, batch: number, partitionPercent: number): number;
}

function parseCsv(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trim().split(/\r?\n/);
  const cols = head.split(',');
  return rows.filter(Boolean).map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i], v])));
}

/** Linear interpolation of y at x over sorted (x, y) points; flat outside (or extrapolated when `extrapolate`). */
function interpolate(points: [number, number][], x: number, extrapolate = false): number {
  if (points.length === 1) return extrapolate ? points[0][1] * (x / points[0][0]) : points[0][1];
  const first = points[0];
  const last = points[points.length - 1];
  if (x <= first[0]) return first[1];
  if (x >= last[0]) {
    if (!extrapolate) return last[1];
    const prev = points[points.length - 2];
    return last[1] + ((last[1] - prev[1]) / (last[0] - prev[0])) * (x - last[0]);
  }
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i];
    if (x <= x1) {
      const [x0, y0] = points[i - 1];
      return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return last[1];
}

function sorted(m: Map<number, number>): [number, number][] {
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
}

function add(grids: Map<string, Grid>, model: string, partition: number, batch: number, ms: number): void {
  let g = grids.get(model);
  if (!g) grids.set(model, (g = new Map()));
  let byBatch = g.get(partition);
  if (!byBatch) g.set(partition, (byBatch = new Map()));
  byBatch.set(batch, ms);
}

/** Bilinear lookup: along batch within each measured partition, then along partition. */
function lookup(grid: Grid, batch: number, partition: number): number {
  const perPartition: [number, number][] = [...grid.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([p, byBatch]) => [p, interpolate(sorted(byBatch), batch, true)]);
  return interpolate(perPartition, partition);
}

export function loadLatencyTable(dir = DEFAULT_CALIBRATION_DIR): LatencyTable {
  const read = (file: string) => {
    try {
      return parseCsv(readFileSync(join(dir, file), 'utf8'));
    } catch (err) {
      throw new PlatformError(
        'internal',
        `cannot read calibration table ${join(dir, file)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
  const batched = new Map<string, Grid>();
  for (const r of read('gpu-batch-partition-latency.csv'))
    add(batched, r.model, Number(r.sm_percent), Number(r.batch), Number(r.latency_ms));

  // Batch-1-only V100 models: service time = 1 / throughput at quota 1.0.
  const single = new Map<string, Grid>();
  for (const r of read('v100-profiles.csv')) {
    if (Number(r.quota) !== 1 || !(Number(r.rps) > 0)) continue;
    // Always as v100-<model>; also by the plain name when the batched table has no such model.
    add(single, `v100-${r.model}`, Number(r.sm_percent), 1, 1000 / Number(r.rps));
    if (!batched.has(r.model)) add(single, r.model, Number(r.sm_percent), 1, 1000 / Number(r.rps));
  }

  // Mean batching gain g(b, p) of the measured CNNs.
  const gain = (batch: number, partition: number): number => {
    if (batch <= 1) return 1;
    let sum = 0;
    for (const g of batched.values()) sum += lookup(g, batch, partition) / lookup(g, 1, partition);
    return sum / batched.size;
  };

  const names = [...new Set([...batched.keys(), ...single.keys()])].sort();
  return {
    models: () => names,
    latencyMs(model, batch, partitionPercent) {
      if (!Number.isInteger(batch) || batch < 1)
        throw new PlatformError('bad_request', `batch must be a positive whole number, got ${batch}`);
      if (!(partitionPercent > 0 && partitionPercent <= 100))
        throw new PlatformError('bad_request', `partition must be in (0, 100] percent, got ${partitionPercent}`);
      const b = batched.get(model);
      if (b) return lookup(b, batch, partitionPercent);
      const s = single.get(model);
      if (s) return lookup(s, 1, partitionPercent) * gain(batch, partitionPercent);
      throw new PlatformError('bad_request', `no calibration profile for model "${model}"; known: ${names.join(', ')}`);
    },
  };
}
