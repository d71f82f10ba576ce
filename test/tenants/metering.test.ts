/**
 * Metering in the real store with a hand-moved clock: node counters become per-minute deltas,
 * counter resets (a restarted agent) count from zero, a restarted gateway (a new poller on the
 * same store) adds nothing twice, two gateways reading the same node count it once, memory is
 * integrated over time, invocations are judged against the SLO, and old minutes roll up into
 * hours exactly once.
 */
import { expect } from 'chai';
import { ManualClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import type { FunctionReplicas } from '../../core/contracts/node-agent.ts';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { createNodeUsagePoller } from '../../gateway/metering/node-usage-poller.ts';
import { createMeterCursors } from '../../gateway/metering/meter-cursors.ts';
import { createUsageWriter } from '../../gateway/metering/usage-writer.ts';
import { createInvocationMeter } from '../../gateway/metering/invocation-meter.ts';
import { createRollup } from '../../gateway/metering/rollup.ts';
import type { FunctionDeviceTotals, UsageSource } from '../../gateway/metering/usage-source.ts';
import type { FunctionInfoCache } from '../../gateway/tenants/function-info.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');

/** A node whose counters the test sets. */
class FakeNode implements UsageSource {
  totals: FunctionDeviceTotals[] = [];
  bootId?: string;
  memory = new Map<string, number>();
  constructor(readonly url: string) {}
  async deviceTotals() {
    return { functions: this.totals.map((t) => ({ ...t })), ...(this.bootId ? { bootId: this.bootId } : {}) };
  }
  async replicas(): Promise<FunctionReplicas[]> {
    return [...this.memory].map(([fn, bytes]) => {
      const [name, namespace] = fn.split('.') as [string, string];
      return {
        name,
        namespace,
        image: 'x',
        desired: 1,
        replicas: [
          {
            id: 'r1',
            name,
            namespace,
            node: 'n',
            url: 'http://x',
            pid: 1,
            state: 'ready',
            restarts: 0,
            startedAt: '',
            usage: { cpu: 0, totalMemoryBytes: bytes },
          },
        ],
      };
    });
  }
}

const info: FunctionInfoCache = {
  get: async (namespace, name) =>
    name === 'gone'
      ? undefined
      : {
          invokeAuth: 'public',
          sloMs: name === 'fast' ? 100 : undefined,
          device: namespace === 'gpu' ? 'cuda' : 'cpu',
        },
};

describe('metering', () => {
  let ts: TestStore;
  let clock: ManualClock;
  beforeEach(async () => {
    ts = await startTestStore();
    clock = new ManualClock(T0);
  });
  afterEach(async () => ts?.cleanup());

  const poller = (node: UsageSource) => {
    const writer = createUsageWriter({ models: ts.store.models, log: silentLogger });
    const p = createNodeUsagePoller({
      sources: [node],
      cursors: createMeterCursors(ts.store.models),
      writer,
      info,
      clock,
      log: silentLogger,
      maxGapMs: 20_000,
    });
    return { poll: async () => (await p.pollOnce(), await writer.flush()) };
  };
  const sum = async (
    field: 'deviceSeconds' | 'reservedDeviceSeconds' | 'gbSeconds' | 'invocations',
    filter: Record<string, unknown> = {},
  ) => (await ts.store.models.UsageRecord.find(filter).lean()).reduce((s, r) => s + ((r[field] as number) ?? 0), 0);

  it('adds counter growth as deltas per minute, and restarts from zero after a counter reset', async () => {
    const node = new FakeNode('http://n1');
    const p = poller(node);
    node.totals = [{ function: 'ocr.acme', deviceSeconds: 5, reservedDeviceSeconds: 10 }];
    await p.poll();
    clock.advance(60_000);
    node.totals = [{ function: 'ocr.acme', deviceSeconds: 8, reservedDeviceSeconds: 16 }];
    await p.poll();
    clock.advance(60_000);
    // the agent restarted: its counters start again from zero
    node.totals = [{ function: 'ocr.acme', deviceSeconds: 2, reservedDeviceSeconds: 1 }];
    await p.poll();
    const recs = await ts.store.models.UsageRecord.find({}).sort({ start: 1 }).lean();
    expect(recs.map((r) => [r.start.toISOString(), r.deviceSeconds, r.reservedDeviceSeconds])).to.deep.equal([
      ['2026-03-01T10:00:00.000Z', 5, 10],
      ['2026-03-01T10:01:00.000Z', 3, 6],
      ['2026-03-01T10:02:00.000Z', 2, 1],
    ]);
  });

  it("counts all of a restarted agent's totals even when they already passed the old ones (new boot id)", async () => {
    const node = new FakeNode('http://n1');
    node.bootId = 'run-1';
    const p = poller(node);
    node.totals = [{ function: 'ocr.acme', deviceSeconds: 5, reservedDeviceSeconds: 10 }];
    await p.poll();
    clock.advance(60_000);
    // restarted and used 7 s before the next read: without the boot id this looks like growth of 2
    node.bootId = 'run-2';
    node.totals = [{ function: 'ocr.acme', deviceSeconds: 7, reservedDeviceSeconds: 12 }];
    await p.poll();
    clock.advance(60_000);
    node.totals = [{ function: 'ocr.acme', deviceSeconds: 9, reservedDeviceSeconds: 15 }];
    await p.poll();
    expect(await sum('deviceSeconds')).to.equal(5 + 7 + 2);
    expect(await sum('reservedDeviceSeconds')).to.equal(10 + 12 + 3);
  });

  it('reads cursors stored before boot ids existed', async () => {
    await ts.store.models.MeterCursor.create({
      source: 'devices|http://n1',
      values: [['ocr.acme', 4, 4]],
      at: new Date(T0 - 60_000),
      seq: 1,
    });
    const node = new FakeNode('http://n1');
    node.bootId = 'run-1';
    node.totals = [{ function: 'ocr.acme', deviceSeconds: 6, reservedDeviceSeconds: 5 }];
    await poller(node).poll();
    expect(await sum('deviceSeconds')).to.equal(2);
    expect(await sum('reservedDeviceSeconds')).to.equal(1);
  });

  it('does not count twice after a gateway restart (a new poller on the same store)', async () => {
    const node = new FakeNode('http://n1');
    node.totals = [{ function: 'vad.gpu', deviceSeconds: 4, reservedDeviceSeconds: 4 }];
    await poller(node).poll();
    clock.advance(10_000);
    node.totals = [{ function: 'vad.gpu', deviceSeconds: 6, reservedDeviceSeconds: 9 }];
    await poller(node).poll(); // a new process: state only from the store
    await poller(node).poll(); // nothing grew
    expect(await sum('deviceSeconds')).to.equal(6);
    expect(await sum('reservedDeviceSeconds')).to.equal(9);
    expect((await ts.store.models.UsageRecord.findOne({}).lean())?.device).to.equal('cuda');
  });

  it('counts a node once when two gateways read it at the same time', async () => {
    const node = new FakeNode('http://n1');
    node.totals = [{ function: 'ocr.acme', deviceSeconds: 7, reservedDeviceSeconds: 0 }];
    const a = poller(node);
    const b = poller(node);
    await Promise.all([a.poll(), b.poll()]);
    clock.advance(5_000);
    node.totals = [{ function: 'ocr.acme', deviceSeconds: 10, reservedDeviceSeconds: 0 }];
    await Promise.all([a.poll(), b.poll()]);
    expect(await sum('deviceSeconds')).to.equal(10);
  });

  it('integrates replica memory over time into GB-seconds, capping a long gap', async () => {
    const node = new FakeNode('http://n1');
    node.memory.set('ocr.acme', 2e9);
    const p = poller(node);
    await p.poll(); // starts the clock
    clock.advance(10_000);
    await p.poll(); // 2 GB × 10 s
    clock.advance(3_600_000); // the gateway was away: at most maxGapMs (20 s) is billed
    await p.poll();
    expect(await sum('gbSeconds')).to.be.closeTo(20 + 40, 1e-9);
  });

  it('meters invocations, errors and the SLO from the gateway-measured duration', async () => {
    const writer = createUsageWriter({ models: ts.store.models, log: silentLogger });
    const meter = createInvocationMeter({ writer, info, clock, log: silentLogger });
    const end = (name: string, status: number, durationSeconds: number) =>
      meter.finished!({
        function: `${name}.acme`,
        name,
        namespace: 'acme',
        callId: 'c',
        method: 'POST',
        startedAt: clock.now(),
        status,
        durationSeconds,
        requestBytes: 0,
      });
    end('fast', 200, 0.05); // met
    end('fast', 200, 0.5); // violated
    end('fast', 502, 0.01); // an error never meets the SLO
    end('slow', 200, 9); // no SLO
    end('gone', 200, 0.1); // not a function (any more): not metered
    clock.advance(60_000);
    end('fast', 200, 0.01);
    await meter.idle();
    await writer.flush();
    const recs = await ts.store.models.UsageRecord.find({}).sort({ start: 1, name: 1 }).lean();
    expect(
      recs.map((r) => [
        r.name,
        r.start.toISOString().slice(11, 16),
        r.invocations,
        r.errorCount,
        r.sloMet,
        r.sloViolated,
      ]),
    ).to.deep.equal([
      ['fast', '10:00', 3, 1, 1, 2],
      ['slow', '10:00', 1, 0, 0, 0],
      ['fast', '10:01', 1, 0, 1, 0],
    ]);
  });

  it('rolls minutes older than the retention into hours, once, even when run again', async () => {
    const node = new FakeNode('http://n1');
    const p = poller(node);
    for (let i = 1; i <= 90; i++) {
      node.totals = [{ function: 'ocr.acme', deviceSeconds: i, reservedDeviceSeconds: 2 * i }];
      await p.poll();
      clock.advance(60_000);
    }
    const totalBefore = await sum('deviceSeconds');
    expect(totalBefore).to.equal(90);
    clock.advance(2 * 86_400_000);
    const rollup = createRollup({ models: ts.store.models, clock, minuteRetentionDays: 1, batch: 25 });
    // an earlier run that stopped after adding a minute to its hour but before deleting it
    const first = await ts.store.models.UsageRecord.findOne({ granularity: 'minute' }).sort({ start: 1 }).lean();
    await ts.store.models.UsageRecord.updateOne(
      { granularity: 'hour', start: new Date(T0), namespace: 'acme', name: 'ocr', device: 'cpu' },
      {
        $inc: { deviceSeconds: first!.deviceSeconds, reservedDeviceSeconds: first!.reservedDeviceSeconds },
        $push: { rolled: first!.start },
      },
      { upsert: true },
    );
    expect(await rollup.run()).to.equal(90);
    expect(await rollup.run()).to.equal(0);
    const recs = await ts.store.models.UsageRecord.find({}).sort({ start: 1 }).lean();
    expect(recs.map((r) => [r.granularity, r.start.toISOString().slice(11, 16), r.deviceSeconds])).to.deep.equal([
      ['hour', '10:00', 60],
      ['hour', '11:00', 30],
    ]);
    expect(await sum('reservedDeviceSeconds')).to.equal(180);
  });
});
