/**
 * Adds usage to per-minute records with `$inc` upserts: amounts are summed in memory per
 * (function, device class, minute) and written on `flush`. A failed write keeps its amounts for
 * the next flush, so an outage of the store delays usage and loses none.
 */
import type { Models } from '../../core/store/models.ts';
import type { Logger } from '../../core/logger.ts';
import {
  USAGE_FIELDS,
  addUsage,
  floorTo,
  MINUTE_MS,
  zeroUsage,
  type UsageFields,
  type UsageKey,
} from './usage-fields.ts';

export interface UsageWriter {
  /** Adds to the minute holding `atMs`. */
  add(key: Omit<UsageKey, 'start'>, atMs: number, fields: Partial<UsageFields>): void;
  /** Writes what was added; resolves once it is in the store. */
  flush(): Promise<void>;
  /** Records not yet written. */
  pending(): number;
}

export async function incUsage(models: Models, k: UsageKey, fields: Partial<UsageFields>): Promise<void> {
  const inc: Record<string, number> = {};
  for (const f of USAGE_FIELDS) if (fields[f]) inc[f] = fields[f]!;
  if (Object.keys(inc).length === 0) return;
  const filter = {
    granularity: 'minute',
    start: new Date(k.start),
    namespace: k.namespace,
    name: k.name,
    device: k.device,
  };
  try {
    await models.UsageRecord.updateOne(filter, { $inc: inc }, { upsert: true });
  } catch (err) {
    // two upserts of a new record raced: the loser's insert hits the unique index; the record now exists
    if ((err as { code?: number }).code !== 11000) throw err;
    await models.UsageRecord.updateOne(filter, { $inc: inc });
  }
}

export function createUsageWriter(d: { models: Models; log: Logger }): UsageWriter {
  let buf = new Map<string, { key: UsageKey; fields: UsageFields }>();
  let flushing: Promise<void> | undefined;
  const put = (key: UsageKey, fields: Partial<UsageFields>) => {
    const id = `${key.namespace}\u0000${key.name}\u0000${key.device}\u0000${key.start}`;
    let e = buf.get(id);
    if (!e) buf.set(id, (e = { key, fields: zeroUsage() }));
    addUsage(e.fields, fields);
  };
  const writeAll = async () => {
    const batch = buf;
    buf = new Map();
    let failed = 0;
    let lastError: unknown;
    for (const { key, fields } of batch.values()) {
      try {
        await incUsage(d.models, key, fields);
      } catch (err) {
        failed++;
        lastError = err;
        put(key, fields);
      }
    }
    if (failed)
      d.log.warn('cannot write usage records; kept for the next flush', {
        records: failed,
        error: (lastError as Error).message,
      });
  };
  return {
    add(key, atMs, fields) {
      put({ ...key, start: floorTo(atMs, MINUTE_MS) }, fields);
    },
    async flush() {
      while (flushing) await flushing;
      flushing = writeAll().finally(() => (flushing = undefined));
      await flushing;
    },
    pending: () => buf.size,
  };
}
