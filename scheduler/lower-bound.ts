/**
 * Device lower bounds of a demand (pure).
 * - `deviceLowerBound`: if every function's demand were served at exactly its most efficient
 *   feasible configuration (no residual, no fragmentation), the devices needed are
 *   Σ demand × area(eff) / rps(eff) (area = quota × partition of one device), rounded up.
 * - `replicaFloorBound`: the same, but a function with demand needs at least one replica, so it
 *   costs at least the smallest area of any configuration it may run (saturated-feasible, or passing
 *   the Nexus check at its whole demand): Σ max(demand × area(eff) / rps(eff), smallest area).
 * - `coverBound`: Σ the least area of any set of profiled configurations that covers the demand
 *   under the planner's feasibility rules (cover.ts searched to the end with area as the cost): no
 *   plan made of profiled configurations needs less, so no placement uses fewer devices than ⌈Σ⌉.
 * All three ignore packing (time × SM shapes, memory, latency) and replica bounds.
 */
import { configArea, type ProfileTable } from '../core/profiles/profile-table.ts';
import { cheapestCover, coverMenu } from './cover.ts';
import { residualFeasible, saturatedCandidates, saturatedFeasible } from './feasibility.ts';
import { DEFAULT_PLANNER_OPTIONS, type PlannerOptions } from './planner.ts';
import type { FunctionSpec } from './types.ts';

export interface DeviceBound {
  devices: number;
  area: number;
}

const rounded = (area: number): DeviceBound => ({ devices: Math.ceil(area - 1e-9), area });
const margin = (options: Partial<PlannerOptions>) => options.sloMargin ?? DEFAULT_PLANNER_OPTIONS.sloMargin;

export function deviceLowerBound(
  functions: readonly FunctionSpec[],
  demand: ReadonlyMap<string, number>,
  profiles: ProfileTable,
  options: Partial<PlannerOptions> = {},
): DeviceBound {
  let area = 0;
  for (const f of functions) {
    const d = demand.get(f.name) ?? 0;
    const eff = saturatedCandidates(profiles.entries(f.model, f.deviceClass), f.sloMs * (1 - margin(options)))
      .candidates[0];
    if (d > 0 && eff) area += (d * configArea(eff)) / eff.rps;
  }
  return rounded(area);
}

export function replicaFloorBound(
  functions: readonly FunctionSpec[],
  demand: ReadonlyMap<string, number>,
  profiles: ProfileTable,
  options: Partial<PlannerOptions> = {},
): DeviceBound {
  let area = 0;
  for (const f of functions) {
    const d = demand.get(f.name) ?? 0;
    const entries = profiles.entries(f.model, f.deviceClass);
    const slo = f.sloMs * (1 - margin(options));
    const eff = saturatedCandidates(entries, slo).candidates[0];
    if (!(d > 0) || !eff) continue;
    let smallest = configArea(eff);
    for (const e of entries)
      if (configArea(e) < smallest && (saturatedFeasible(e, slo) || residualFeasible(e, slo, Math.min(d, e.rps))))
        smallest = configArea(e);
    area += Math.max((d * configArea(eff)) / eff.rps, smallest);
  }
  return rounded(area);
}

/** `exhaustive` is false if some function's search hit `nodeBudget` (the sum is then not proven minimal). */
export function coverBound(
  functions: readonly FunctionSpec[],
  demand: ReadonlyMap<string, number>,
  profiles: ProfileTable,
  options: Partial<PlannerOptions> = {},
  nodeBudget = 1_000_000,
): DeviceBound & { exhaustive: boolean } {
  let area = 0;
  let exhaustive = true;
  for (const f of functions) {
    const d = demand.get(f.name) ?? 0;
    const entries = profiles.entries(f.model, f.deviceClass);
    const slo = f.sloMs * (1 - margin(options));
    const menu = coverMenu(saturatedCandidates(entries, slo).candidates, entries, slo);
    if (!(d > 0) || !menu) continue;
    const c = cheapestCover(d, menu, { maxReplicas: Number.MAX_SAFE_INTEGER, nodeBudget })!;
    area += c.area;
    exhaustive &&= c.exhaustive;
  }
  return { ...rounded(area), exhaustive };
}
