/**
 * Fills the cells of a grid that were not measured, from the measured ones, and marks them
 * `fitted`. Along one axis at a time (partition, then batch, then quota, repeated until nothing
 * changes), a missing cell between two known neighbours gets the linear interpolation of their
 * throughput and latency; a cell beyond the known ones is extrapolated from the nearest one:
 * throughput in proportion to partition or quota (latency inversely), and along batch the same
 * throughput with latency growing with the batch. Measured cells are never changed.
 */
import { configKey, type ProfileEntry, type ReplicaConfig } from '../core/profiles/profile-table.ts';
import type { SweepGrid } from './grid.ts';

type Axis = 'partitionPercent' | 'quota' | 'batch';
type Cell = Pick<ProfileEntry, 'rps' | 'latencyMs' | 'memoryBytes' | 'source'>;

const lerp = (a: number, b: number, t: number) => a + (b - a) * t;

function estimate(axis: Axis, x: number, lo?: [number, Cell], hi?: [number, Cell]): Cell | undefined {
  if (lo && hi) {
    const t = (x - lo[0]) / (hi[0] - lo[0]);
    const l = lo[1].latencyMs;
    const h = hi[1].latencyMs;
    return {
      rps: lerp(lo[1].rps, hi[1].rps, t),
      latencyMs: { p50: lerp(l.p50, h.p50, t), p95: lerp(l.p95, h.p95, t), p99: lerp(l.p99, h.p99, t) },
      memoryBytes: Math.max(lo[1].memoryBytes, hi[1].memoryBytes),
      source: 'fitted',
    };
  }
  const near = lo ?? hi;
  if (!near) return undefined;
  const [x0, c] = near;
  const speed = axis === 'batch' ? 1 : x / x0;
  const slow = axis === 'batch' ? x / x0 : x0 / x;
  return {
    rps: c.rps * speed,
    latencyMs: { p50: c.latencyMs.p50 * slow, p95: c.latencyMs.p95 * slow, p99: c.latencyMs.p99 * slow },
    memoryBytes: c.memoryBytes,
    source: 'fitted',
  };
}

export function fillGrid(
  measured: readonly ProfileEntry[],
  grid: SweepGrid,
  identity: Pick<ProfileEntry, 'model' | 'deviceClass'>,
): ProfileEntry[] {
  const cells = new Map<string, ProfileEntry>();
  for (const e of measured) cells.set(configKey(e), e);
  if (measured.length === 0) return [];
  const axes: Array<[Axis, number[]]> = [
    ['partitionPercent', grid.partitions],
    ['batch', grid.batches],
    ['quota', grid.quotas],
  ];
  const all: ReplicaConfig[] = [];
  for (const partitionPercent of grid.partitions)
    for (const quota of grid.quotas) for (const batch of grid.batches) all.push({ partitionPercent, quota, batch });
  for (let changed = true; changed;) {
    changed = false;
    for (const [axis, values] of axes) {
      const fills: ProfileEntry[] = [];
      for (const c of all) {
        if (cells.has(configKey(c))) continue;
        const x = c[axis];
        const along = values
          .map((v) => [v, cells.get(configKey({ ...c, [axis]: v }))] as const)
          .filter((p): p is readonly [number, ProfileEntry] => p[1] !== undefined);
        const below = along.filter(([v]) => v < x).at(-1);
        const above = along.find(([v]) => v > x);
        const est = estimate(
          axis,
          x,
          below ? [below[0], below[1]] : undefined,
          above ? [above[0], above[1]] : undefined,
        );
        if (est) fills.push({ ...identity, ...c, ...est });
      }
      for (const f of fills) cells.set(configKey(f), f);
      if (fills.length) changed = true;
    }
  }
  const order = (e: ReplicaConfig) => [e.partitionPercent, e.quota, e.batch];
  return [...cells.values()].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
  });
}
