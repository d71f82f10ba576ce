/**
 * What the live autoscaler reads profiles through: the newest stored table of every function
 * and device class, as a core/profiles ProfileTable (rows keyed by function name).
 */
import { createProfileTable, type ModelFootprint } from '../core/profiles/profile-table.ts';
import type { ProfileStore } from './profile-store.ts';
import type { ProfileSource } from '../scheduler/live/profile-source.ts';

export function createStoreProfileSource(store: ProfileStore): ProfileSource {
  return {
    /** A table over the newest stored profiles (read again on every call). */
    async table() {
      const tables = await store.latestTables();
      const footprints: Record<string, ModelFootprint> = {};
      for (const t of tables) if (!footprints[t.function] && t.footprint) footprints[t.function] = t.footprint;
      return createProfileTable({ entries: tables.flatMap((t) => t.entries), footprints });
    },
  };
}
