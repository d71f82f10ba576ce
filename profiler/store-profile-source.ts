/**
 * What the live autoscaler reads profiles through: the newest stored table of every function
 * and device class, as a core/profiles ProfileTable (rows keyed by function name). The live
 * scheduler knows a cpu function's device class only as `cpu` (scheduler/live/live-function.ts),
 * while sweeps store `cpu-<cores>c`: the newest cpu-<n>c table of a function also answers for
 * `cpu`, so that a function the auto-scaler had profiled leaves the safe default. Rows that say
 * nothing the planner can use are left out: a configuration with no rate under the SLO (rps 0) or a
 * missing figure (a table written before trials were checked, trial-validity.ts), so that no plan
 * rests on `capacity 0 rps` or a NaN latency.
 */
import { createProfileTable, type ModelFootprint, type ProfileEntry } from '../core/profiles/profile-table.ts';
import type { ProfileStore } from './profile-store.ts';
import type { ProfileSource } from '../scheduler/live/profile-source.ts';

const CPU_CLASS = /^cpu-\d+c$/;

/** A row the planner can use: a positive rate and every latency figure a number. */
export function usableEntry(e: ProfileEntry): boolean {
  const l = e.latencyMs;
  return (
    Number.isFinite(e.rps) &&
    e.rps > 0 &&
    l !== undefined &&
    l !== null &&
    [l.p50, l.p95, l.p99].every((x) => typeof x === 'number' && Number.isFinite(x))
  );
}

export function createStoreProfileSource(store: ProfileStore): ProfileSource {
  return {
    /** A table over the newest stored profiles (read again on every call). */
    async table() {
      const tables = await store.latestTables();
      const footprints: Record<string, ModelFootprint> = {};
      for (const t of tables) if (!footprints[t.function] && t.footprint) footprints[t.function] = t.footprint;
      const entries: ProfileEntry[] = tables.flatMap((t) => t.entries.filter(usableEntry));
      const generic = new Set(entries.filter((e) => e.deviceClass === 'cpu').map((e) => e.model));
      // newest first (latestTables' order): the first cpu-<n>c table of a function wins
      for (const t of tables) {
        if (!CPU_CLASS.test(t.deviceClass) || generic.has(t.function)) continue;
        generic.add(t.function);
        entries.push(...t.entries.filter(usableEntry).map((e) => ({ ...e, deviceClass: 'cpu' })));
      }
      return createProfileTable({ entries, footprints });
    },
  };
}
