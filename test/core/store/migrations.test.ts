/**
 * The store's migrations (core/store/migrations.ts) on a real embedded store: records written in an
 * earlier shape are changed when the store opens again, before the models build their indexes.
 */
import { expect } from 'chai';
import { startTestStore, tempDir } from '../../helpers/store.ts';
import { buildCostReport } from '../../../gateway/metering/cost-report.ts';
import { parseCostQuery } from '../../../gateway/metering/cost-query.ts';

const T0 = Date.UTC(2026, 0, 1);

describe('store migrations', function () {
  this.timeout(30_000);

  it("renames usage records' deviceClass to device, with the unique index, and prices them by it", async () => {
    const data = await tempDir();
    try {
      // an earlier version's records: device kind under deviceClass, unique index on it; two kinds in one minute
      const old = await startTestStore({ dataDir: data.dir });
      const usage = old.store.connection.db!.collection('usage_records');
      await usage.dropIndexes();
      await usage.createIndex(
        { granularity: 1, start: 1, namespace: 1, name: 1, deviceClass: 1 },
        { unique: true, name: 'old_unique' },
      );
      const base = { granularity: 'minute', start: new Date(T0), namespace: 'acme', name: 'ocr', invocations: 1 };
      await usage.insertMany([
        { ...base, deviceClass: 'cpu', deviceSeconds: 3600 },
        { ...base, deviceClass: 'cuda', deviceSeconds: 3600 },
      ]);
      await old.store.close();

      const ts = await startTestStore({ dataDir: data.dir });
      try {
        const docs = await ts.store.models.UsageRecord.find({}).sort({ device: 1 }).lean();
        expect(docs.map((d) => d.device)).to.deep.equal(['cpu', 'cuda']);
        expect(docs.every((d) => !('deviceClass' in d))).to.equal(true);
        const indexes = await ts.store.connection.db!.collection('usage_records').indexes();
        expect(indexes.map((i) => i.name)).to.not.include('old_unique');
        const unique = indexes.find((i) => i.unique);
        expect(Object.keys(unique!.key)).to.deep.equal(['granularity', 'start', 'namespace', 'name', 'device']);
        const report = await buildCostReport(
          {
            models: ts.store.models,
            owners: new Map([['acme', 'acme']]),
            pricing: {
              currency: 'USD',
              default: { deviceHour: 1, gbHour: 0, millionInvocations: 0 },
              devices: { cuda: { deviceHour: 10, gbHour: 0, millionInvocations: 0 } },
            },
          },
          parseCostQuery({ from: new Date(T0).toISOString(), to: new Date(T0 + 60_000).toISOString() }, T0),
        );
        expect(report.total.costDevice, 'cpu at 1/h + cuda at 10/h, one device-hour each').to.equal(11);
        // a third start changes nothing more
        await ts.store.close();
        const again = await startTestStore({ dataDir: data.dir });
        expect(await again.store.models.UsageRecord.countDocuments({ device: { $exists: true } })).to.equal(2);
        await again.store.close();
      } finally {
        await ts.store.close().catch(() => undefined);
      }
    } finally {
      await data.cleanup();
    }
  });
});
