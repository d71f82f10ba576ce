/**
 * The device lower bound of a demand: if every function's demand were served at exactly its most
 * efficient feasible configuration (no residual, no fragmentation), the devices needed are
 * Σ demand × area(eff) / rps(eff) (area = quota × partition of one device), rounded up.
 */
import { configArea, type ProfileTable } from '../core/profiles/profile-table.ts';
import { saturatedCandidates } from './feasibility.ts';
import { DEFAULT_PLANNER_OPTIONS, type PlannerOptions } from './planner.ts';
import type { FunctionSpec } from './types.ts';

export function deviceLowerBound(functions: readonly FunctionSpec[], demand: ReadonlyMap<string, number>, profiles: ProfileTable, options: Partial<PlannerOptions> = {}): { devices: number; area: number } {
  const margin = options.sloMargin ?? DEFAULT_PLANNER_OPTIONS.sloMargin;
  let area = 0;
  for (const f of functions) {
    const d = demand.get(f.name) ?? 0;
    const eff = saturatedCandidates(profiles.entries(f.model, f.deviceClass), f.sloMs * (1 - margin)).candidates[0];
    if (d > 0 && eff) area += (d * configArea(eff)) / eff.rps;
  }
  return { devices: Math.ceil(area - 1e-9), area };
}
