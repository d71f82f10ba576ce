/**
 * Turns a sweep's trials into profile rows (core/profiles ProfileEntry): throughput is the
 * highest open-loop rate that met the SLO, in items/s; latency is what the requests saw at that
 * rate; then the grid's untested cells are filled (interpolate.ts). Rows are keyed by the
 * function name, so the scheduler looks a function up by its own name. A trial that could not run
 * properly (trial-validity.ts) is no row: its cell is fitted from the measured ones like an untested one.
 */
import type { ModelFootprint, ProfileEntry } from '../core/profiles/profile-table.ts';
import type { SweepGrid } from './grid.ts';
import { fillGrid } from './interpolate.ts';
import type { TrialRecord } from './profile-store.ts';
import { isValidTrial } from './trial-validity.ts';

export function measuredEntries(trials: readonly TrialRecord[], model: string, deviceClass: string): ProfileEntry[] {
  return trials
    .filter((t) => isValidTrial(t.metrics))
    .map((t) => ({
      model,
      deviceClass,
      ...t.config,
      rps: t.metrics.sloRps,
      latencyMs: { ...t.metrics.latencyMs },
      memoryBytes: t.metrics.memoryBytes,
      source: 'measured' as const,
    }));
}

/** The grid a table covers: the swept one joined with the device's default grid. */
export function tableGrid(swept: SweepGrid, device: SweepGrid): SweepGrid {
  const join = (a: number[], b: number[]) => [...new Set([...a, ...b])].sort((x, y) => x - y);
  return {
    partitions: join(swept.partitions, device.partitions),
    quotas: join(swept.quotas, device.quotas),
    batches: join(swept.batches, device.batches),
  };
}

export function buildTableEntries(
  trials: readonly TrialRecord[],
  grid: SweepGrid,
  model: string,
  deviceClass: string,
): ProfileEntry[] {
  return fillGrid(measuredEntries(trials, model, deviceClass), grid, { model, deviceClass });
}

/** Memory of one replica: the largest measured; nothing is shared between cpu replicas. */
export function measuredFootprint(trials: readonly TrialRecord[]): ModelFootprint {
  return {
    weightsBytes: 0,
    replicaBytes: Math.max(0, ...trials.filter((t) => isValidTrial(t.metrics)).map((t) => t.metrics.memoryBytes)),
  };
}
