/**
 * The last counter values read from each source, in the store, so a restarted gateway adds
 * only what grew since. `commit` is a compare-and-set on a sequence number: of two gateways
 * that read the same cursor, one commits and the other adds nothing, so usage is counted once.
 */
import type { Models } from '../../core/store/models.ts';

export interface Cursor<V> {
  values: V;
  at?: Date;
  seq: number;
}

export interface MeterCursors {
  read<V>(source: string, empty: V): Promise<Cursor<V>>;
  /** False when another writer moved the cursor since `prev` was read. */
  commit<V>(source: string, prev: Cursor<V>, values: V, at: Date): Promise<boolean>;
}

export function createMeterCursors(models: Models): MeterCursors {
  const { MeterCursor } = models;
  return {
    async read(source, empty) {
      const doc = await MeterCursor.findOne({ source }).lean();
      return doc
        ? { values: (doc.values ?? empty) as typeof empty, at: doc.at ?? undefined, seq: doc.seq ?? 0 }
        : { values: empty, seq: 0 };
    },
    async commit(source, prev, values, at) {
      if (prev.seq === 0 && prev.at === undefined) {
        try {
          await MeterCursor.create({ source, values, at, seq: 1 });
          return true;
        } catch (err) {
          if ((err as { code?: number }).code === 11000) return false;
          throw err;
        }
      }
      const r = await MeterCursor.updateOne({ source, seq: prev.seq }, { $set: { values, at }, $inc: { seq: 1 } });
      return r.modifiedCount === 1;
    },
  };
}
