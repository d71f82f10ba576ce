/**
 * Trials and tables in the store (core/store/models.ts: ProfileTrial, ProfileTable). A trial is
 * written once per (sweep, trial index): writing it again changes nothing, so a sweep resumed
 * after a restart never holds a trial twice. A table is one document per (function, model
 * version, device class), replaced by the latest sweep.
 */
import type { Models } from '../core/store/models.ts';
import type { ModelFootprint, ProfileEntry, ReplicaConfig } from '../core/profiles/profile-table.ts';
import type { SweepGrid } from './grid.ts';
import type { TrialMetrics } from './trial-result.ts';

export interface TrialRecord {
  sweepId: string;
  trialIndex: number;
  namespace: string;
  function: string;
  modelVersion: string;
  deviceClass: string;
  node: string;
  config: ReplicaConfig;
  metrics: TrialMetrics;
  startedAt: Date;
  durationMs: number;
}

export interface TableRecord {
  namespace: string;
  function: string;
  modelVersion: string;
  deviceClass: string;
  origin: 'sweep' | 'calibration';
  sweepId?: string;
  node?: string;
  entries: ProfileEntry[];
  footprint: ModelFootprint;
  grid: SweepGrid;
  sloMs?: number;
  updatedAt?: Date;
}

export interface ProfileStore {
  /**
   * Stores a trial unless the sweep already has a valid one at that index (an invalid one is replaced); true when
   * written.
   */
  saveTrial(t: TrialRecord): Promise<boolean>;
  trials(sweepId: string): Promise<TrialRecord[]>;
  saveTable(t: TableRecord): Promise<void>;
  /** The newest table of a function (optionally on one device class). */
  latestTable(namespace: string, fn: string, deviceClass?: string): Promise<TableRecord | undefined>;
  /** The newest table per (function, device class). */
  latestTables(): Promise<TableRecord[]>;
}

export function createProfileStore(models: Models): ProfileStore {
  const { ProfileTrial, ProfileTable } = models;
  return {
    async saveTrial(t) {
      // a trial stored as invalid (trial-validity.ts) is run again when its sweep resumes: its new outcome replaces it
      const replaced = await ProfileTrial.updateOne(
        { sweepId: t.sweepId, trialIndex: t.trialIndex, 'metrics.invalid': { $exists: true } },
        { $set: t },
      );
      if (replaced.matchedCount > 0) return true;
      const r = await ProfileTrial.updateOne(
        { sweepId: t.sweepId, trialIndex: t.trialIndex },
        { $setOnInsert: t },
        { upsert: true },
      );
      return r.upsertedCount > 0;
    },
    async trials(sweepId) {
      const docs = await ProfileTrial.find({ sweepId }).sort({ trialIndex: 1 }).lean();
      return docs.map(
        (d) =>
          ({ ...d, config: d.config as ReplicaConfig, metrics: d.metrics as TrialMetrics }) as unknown as TrialRecord,
      );
    },
    async saveTable(t) {
      const key = {
        namespace: t.namespace,
        function: t.function,
        modelVersion: t.modelVersion,
        deviceClass: t.deviceClass,
      };
      await ProfileTable.updateOne(key, { $set: { ...t } }, { upsert: true });
    },
    async latestTable(namespace, fn, deviceClass) {
      const doc = await ProfileTable.findOne({ namespace, function: fn, ...(deviceClass ? { deviceClass } : {}) })
        .sort({ updatedAt: -1 })
        .lean();
      return doc ? (doc as unknown as TableRecord) : undefined;
    },
    async latestTables() {
      const docs = (await ProfileTable.find({}).sort({ updatedAt: -1 }).lean()) as unknown as TableRecord[];
      const seen = new Set<string>();
      return docs.filter((d) => {
        const k = `${d.namespace}\u0000${d.function}\u0000${d.deviceClass}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    },
  };
}
