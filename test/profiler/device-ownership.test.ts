/**
 * One sweep per device at a time, also after an overload (issue 14 item 4). Real Redis (a unique
 * prefix, removed afterwards), the real embedded store and a real node agent running the test echo
 * replica; the load generator is scripted so that the test controls what the machine does:
 * - the device lock belongs to one run of a sweep: another run of the same sweep (BullMQ handing the
 *   job over after its lock lapsed) waits like any other sweep, unless the lock was parked for it;
 * - two gateways' workers run two sweeps of one device; during the first trial the process is
 *   blocked by synchronous work for longer than the locks last (what an overloaded machine does):
 *   no two trials ever load the device at the same time, the disturbed measurement is never stored,
 *   both sweeps complete, and the run that lost its locks says so.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { systemClock } from '../../core/clock.ts';
import { readCommonConfig, type ProfilerConfig } from '../../core/config.ts';
import { CaptureSink, createLogger } from '../../core/logger.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';
import { toFunctionSpec } from '../../gateway/control/function-spec.ts';
import { createRedisDeviceLock } from '../../profiler/device-lock.ts';
import type { LoadGenerator, LoadOutcome, LoadRun } from '../../profiler/load.ts';
import { createProfiler, type Profiler } from '../../profiler/profiler.ts';
import { createProfileStore } from '../../profiler/profile-store.ts';
import { sleep } from '../../profiler/abort.ts';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import { startHarness, waitFor, type Harness } from '../fast-manager/harness.ts';

const REDIS_URL = readCommonConfig({}).redisUrl;
const prefix = `fgs-test-devown-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;

async function deleteKeys(r: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (found.length) await r.del(...found);
  } while (cursor !== '0');
}

describe('profiler: one sweep per device, also after an overload', function () {
  this.timeout(120_000);
  let redis: Redis;
  before(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    await deleteKeys(redis, `${prefix}*`);
    redis.disconnect();
  });

  it('gives the device to one run of a sweep: another run of it waits, unless the lock was parked for it', async () => {
    const lock = createRedisDeviceLock(redis);
    const key = `${prefix}:lock-unit`;
    const a1 = { sweep: 'sweep-a', run: 'r1' };
    const a2 = { sweep: 'sweep-a', run: 'r2' };
    const b = { sweep: 'sweep-b', run: 'r1' };
    expect(await lock.acquire(key, a1, 5000)).to.equal('taken');
    expect(await lock.acquire(key, a1, 5000)).to.equal('held');
    // the same sweep in another run (its job handed over while the first run still measures): busy
    expect(await lock.acquire(key, a2, 5000)).to.equal('busy');
    expect(await lock.acquire(key, b, 5000)).to.equal('busy');
    expect(await lock.holder(key)).to.deep.equal(a1);
    // a stopping worker parks it for the sweep's next run: that run takes it, no other sweep does
    await lock.park(key, a1, 5000);
    expect(await lock.acquire(key, b, 5000)).to.equal('busy');
    expect(await lock.acquire(key, a2, 5000)).to.equal('taken');
    expect(await lock.renew(key, a1, 5000)).to.equal('busy');
    // released by a run that no longer holds it: nothing happens
    await lock.release(key, a1);
    expect(await lock.holder(key)).to.deep.equal(a2);
    await lock.release(key, a2);
    // renewed after it lapsed and nobody took it: taken again (and the caller knows it had lapsed)
    expect(await lock.renew(key, b, 5000)).to.equal('taken');
    await lock.release(key, b);
    expect(await lock.holder(key)).to.equal(undefined);
  });

  describe('two gateways, two sweeps of one device, the process stalled mid-trial', () => {
    let ts: TestStore;
    let agent: Harness;
    const profilers: Profiler[] = [];
    const sink = new CaptureSink();

    before(async () => {
      ts = await startTestStore();
      agent = await startHarness();
      for (const name of ['own-a', 'own-b'])
        await ts.store.models.Function.create({
          name,
          namespace: 'openfaas-fn',
          image: 'echo:latest',
          annotations: { 'fastgshare/max_batch': '2' },
          labels: {},
          replicas: 0,
        });
    });
    after(async () => {
      for (const p of profilers) await p.close().catch(() => undefined);
      await agent?.close();
      await ts?.cleanup();
    });

    it('never loads the device with two trials at once, never stores the stalled measurement, and completes both sweeps', async () => {
      const intervals: Array<{ url: string; start: number; end: number }> = [];
      let blocked: string | undefined;
      const STALL_MS = 3500;
      const load: LoadGenerator = {
        async run(o: LoadRun): Promise<LoadOutcome> {
          const start = performance.now();
          let rps = 40;
          if (blocked === undefined) {
            // long synchronous work on the gateway's event loop: no timer, no lock renewal, no I/O for 3.5 s
            blocked = o.url;
            while (performance.now() - start < STALL_MS) {
              /* busy */
            }
            rps = 999; // what the stalled measurement would say: it must never be stored
          } else {
            await sleep(120, o.signal).catch(() => undefined);
          }
          intervals.push({ url: o.url, start, end: performance.now() });
          return {
            ok: 100,
            failed: 0,
            rps,
            p50: 4,
            p95: 6,
            p99: 8,
            errorRate: 0,
            seconds: (performance.now() - start) / 1000,
          };
        },
      };
      const config: ProfilerConfig = {
        prefix,
        queue: 'profiler',
        concurrency: 2,
        lockMs: 1500,
        trialSeconds: 1,
        auto: true,
      };
      for (let i = 0; i < 2; i++) {
        const p = createProfiler({
          config,
          redisUrl: REDIS_URL,
          models: ts.store.models,
          nodes: [createHttpNodeAgentClient(agent.agent.url, { token: agent.agent.token })],
          spec: async (namespace, name) =>
            toFunctionSpec((await ts.store.models.Function.findOne({ namespace, name }).lean())!, {}),
          clock: systemClock,
          log: createLogger({ sink, level: 'debug' }),
          load,
          busyDelayMs: 200,
        });
        profilers.push(p);
      }
      const input = { base64: Buffer.from('profile me').toString('base64'), contentType: 'text/plain' };
      const body = { grid: { partitions: [100], quotas: [1], batches: [1, 2] }, trialSeconds: 1, sloMs: 500, input };
      const a = await profilers[0]!.service.request('openfaas-fn', 'own-a', body);
      const b = await profilers[0]!.service.request('openfaas-fn', 'own-b', body);
      for (const p of profilers) p.startWorker();

      const done = await waitFor(
        'both sweeps ended',
        async () => {
          const views = await Promise.all(['own-a', 'own-b'].map((fn) => profilers[1]!.service.job('openfaas-fn', fn)));
          return views.every((v) => ['completed', 'failed', 'cancelled'].includes(v.state)) ? views : undefined;
        },
        100_000,
        200,
      );
      expect(done.map((v) => [v.function, v.state, v.error])).to.deep.equal([
        ['own-a.openfaas-fn', 'completed', undefined],
        ['own-b.openfaas-fn', 'completed', undefined],
      ]);
      expect(blocked, 'the scripted stall happened').to.be.a('string');

      // no two trials (replicas) were loaded at the same time
      const clashes: string[] = [];
      for (let i = 0; i < intervals.length; i++) {
        for (let j = i + 1; j < intervals.length; j++) {
          const x = intervals[i]!;
          const y = intervals[j]!;
          if (x.url !== y.url && x.start < y.end && y.start < x.end)
            clashes.push(
              `${x.url} [${x.start.toFixed(0)}, ${x.end.toFixed(0)}] and ${y.url} [${y.start.toFixed(0)}, ${y.end.toFixed(0)}]`,
            );
        }
      }
      expect(clashes, clashes.join('\n')).to.deep.equal([]);

      // every trial stored once per sweep, none from the stalled run, none invalid in the end
      const store = createProfileStore(ts.store.models);
      for (const v of [a, b]) {
        const trials = await store.trials(v.id);
        expect(trials.map((t) => t.trialIndex)).to.deep.equal([0, 1]);
        for (const t of trials) {
          expect(t.metrics.closedLoopRps, `${v.function} trial ${t.trialIndex}`).to.not.equal(999);
          expect(t.metrics.invalid).to.equal(undefined);
        }
      }
      // the run that lost its locks stopped and said why
      const stopped = sink.records.filter((r) => r.message === 'sweep run stopped').map((r) => String(r.fields.reason));
      expect(stopped.length, 'a run stopped after the stall').to.be.greaterThan(0);
      expect(
        stopped.every((s) => /another run took this sweep over|another sweep took the device/.test(s)),
        stopped.join('; '),
      ).to.equal(true);
    });
  });

  it('replaces a trial stored as invalid when the sweep runs it again, and keeps a valid one', async () => {
    const ts = await startTestStore();
    try {
      const store = createProfileStore(ts.store.models);
      const base = {
        sweepId: 's-1',
        trialIndex: 0,
        namespace: 'ns',
        function: 'fn',
        modelVersion: 'v',
        deviceClass: 'cpu-2c',
        node: 'n',
        config: { partitionPercent: 100, quota: 1, batch: 1 },
        startedAt: new Date(),
        durationMs: 1,
      };
      const m = {
        sloRps: 5,
        closedLoopRps: 6,
        latencyMs: { p50: 1, p95: 2, p99: 3 },
        closedLoopLatencyMs: { p50: 1, p95: 2, p99: 3 },
        errorRate: 0,
        busyShare: 0.1,
        busySource: 'cpu' as const,
        memoryBytes: 1,
        requests: 10,
        steps: [],
      };
      expect(
        await store.saveTrial({
          ...base,
          metrics: { ...m, sloRps: 0, closedLoopRps: 0, invalid: 'no request succeeded' },
        }),
      ).to.equal(true);
      expect(await store.saveTrial({ ...base, metrics: m })).to.equal(true);
      expect(await store.saveTrial({ ...base, metrics: { ...m, sloRps: 77 } })).to.equal(false);
      const stored = await store.trials('s-1');
      expect(stored).to.have.length(1);
      expect(stored[0]!.metrics.sloRps).to.equal(5);
      expect(stored[0]!.metrics.invalid).to.equal(undefined);
    } finally {
      await ts.cleanup();
    }
  });
});
