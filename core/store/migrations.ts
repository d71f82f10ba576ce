/**
 * Changes to the shape of stored records, applied when the store opens and before the models
 * build their indexes (a new unique index could otherwise meet records in the old shape). Each
 * step is idempotent: it looks for records in the old shape and leaves the store alone when
 * there are none, so every start may run them all.
 */
import type { Connection } from 'mongoose';
import type { Logger } from '../logger.ts';

type Db = NonNullable<Connection['db']>;

interface Migration {
  /** What changed, for the log. */
  what: string;
  /** Migrates; resolves to the number of records changed. */
  run(db: Db): Promise<number>;
}

/** MongoDB's code for a collection that does not exist (listIndexes on it). */
const NAMESPACE_NOT_FOUND = 26;

const MIGRATIONS: readonly Migration[] = [
  {
    // usage records named the device kind `deviceClass` until device class came to mean the profiled
    // hardware only (core/contracts/devices.ts)
    what: 'usage records: deviceClass renamed to device',
    async run(db) {
      const usage = db.collection('usage_records');
      let indexes: Array<{ name?: string; key: Record<string, unknown> }>;
      try {
        indexes = await usage.indexes();
      } catch (err) {
        if ((err as { code?: number }).code === NAMESPACE_NOT_FOUND) return 0;
        throw err;
      }
      for (const ix of indexes) if ('deviceClass' in ix.key && ix.name) await usage.dropIndex(ix.name);
      const r = await usage.updateMany({ deviceClass: { $exists: true } }, { $rename: { deviceClass: 'device' } });
      return r.modifiedCount;
    },
  },
];

export async function migrateStore(connection: Connection, log: Logger): Promise<void> {
  const db = connection.db;
  if (!db) throw new Error('migrateStore: the connection is not open');
  for (const m of MIGRATIONS) {
    const changed = await m.run(db);
    if (changed > 0) log.info(`store migrated: ${m.what}`, { records: changed });
  }
}
