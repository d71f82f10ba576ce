/**
 * Where the live auto-scaler gets its profile tables. The profiler's store-backed source plugs in
 * here; until then the calibration profiles (emulated functions) and any table given in code.
 * `mergeProfileTables` layers several tables: for each model, the first table that has rows wins.
 */
import type { ModelFootprint, ProfileEntry, ProfileTable } from '../../core/profiles/profile-table.ts';
import { loadCalibrationProfiles } from '../../core/profiles/calibration-profiles.ts';
import { PlatformError } from '../../core/errors.ts';

export interface ProfileSource {
  /** The profiles as they are now (read once per scheduling round). */
  table(): Promise<ProfileTable>;
}

export function staticProfileSource(table: ProfileTable): ProfileSource {
  return { table: async () => table };
}

/** The emulated V100's calibration table, loaded on first use. */
export function calibrationProfileSource(dir?: string): ProfileSource {
  let table: ProfileTable | undefined;
  return {
    async table() {
      table ??= loadCalibrationProfiles(dir);
      return table;
    },
  };
}

/** Layers tables: entries, footprint and service time of a model come from the first table that knows it. */
export function mergeProfileTables(tables: readonly ProfileTable[]): ProfileTable {
  const owner = (model: string) => tables.find((t) => t.models().includes(model));
  return {
    entries(model, deviceClass): readonly ProfileEntry[] {
      for (const t of tables) {
        const e = t.entries(model, deviceClass);
        if (e.length) return e;
      }
      return [];
    },
    footprint(model): ModelFootprint {
      const t = owner(model);
      if (!t) throw new PlatformError('bad_request', `no memory footprint for model "${model}": it has no profile yet`);
      return t.footprint(model);
    },
    serviceMs(model, batch, partitionPercent) {
      const t = owner(model);
      if (!t) throw new PlatformError('bad_request', `no service time for model "${model}": it has no profile yet`);
      return t.serviceMs(model, batch, partitionPercent);
    },
    models: () => [...new Set(tables.flatMap((t) => t.models()))].sort(),
  };
}

/** Several sources layered (the first one's rows win, e.g. measured profiles over calibration). */
export function layeredProfileSource(sources: readonly ProfileSource[]): ProfileSource {
  return { table: async () => mergeProfileTables(await Promise.all(sources.map((s) => s.table()))) };
}
