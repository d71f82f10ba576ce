/**
 * Keeps the usage collection bounded: minute records older than the retention are folded into
 * hour records and deleted. Each minute is added to its hour at most once (the hour record
 * lists the minutes it holds and the update matches only when the minute is not listed), so a
 * roll-up interrupted between the add and the delete adds nothing when it runs again.
 * Volume: at most 1,440 minute records per function and device class per day of retention,
 * then 24 per day.
 */
import type { Models } from '../../core/store/models.ts';
import type { Clock } from '../../core/clock.ts';
import { DAY_MS, floorTo, HOUR_MS, USAGE_FIELDS } from './usage-fields.ts';

export interface Rollup {
  /** Rolls up what is older than the retention; resolves with the number of minute records folded. */
  run(): Promise<number>;
}

export function createRollup(d: { models: Models; clock: Clock; minuteRetentionDays: number; batch?: number }): Rollup {
  const { UsageRecord } = d.models;
  const batch = d.batch ?? 2_000;
  return {
    async run() {
      const cutoff = new Date(floorTo(d.clock.date().getTime() - d.minuteRetentionDays * DAY_MS, HOUR_MS));
      let folded = 0;
      for (;;) {
        const minutes = await UsageRecord.find({ granularity: 'minute', start: { $lt: cutoff } })
          .sort({ start: 1 })
          .limit(batch)
          .lean();
        if (minutes.length === 0) return folded;
        for (const m of minutes) {
          const inc: Record<string, number> = {};
          for (const f of USAGE_FIELDS) inc[f] = (m[f] as number | undefined) ?? 0;
          const hour = {
            granularity: 'hour',
            start: new Date(floorTo(m.start.getTime(), HOUR_MS)),
            namespace: m.namespace,
            name: m.name,
            device: m.device,
          };
          try {
            await UsageRecord.updateOne(
              { ...hour, rolled: { $ne: m.start } },
              { $inc: inc, $push: { rolled: m.start } },
              { upsert: true },
            );
          } catch (err) {
            // the hour record exists and already holds this minute (an earlier run stopped before the delete)
            if ((err as { code?: number }).code !== 11000) throw err;
          }
          await UsageRecord.deleteOne({ _id: m._id });
          folded++;
        }
      }
    },
  };
}
