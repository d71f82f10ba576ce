import { expect } from 'chai';
import { ManualClock } from '../../../core/clock.ts';
import { PlatformError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { AdmissionRejectedError } from '../../../templates/onnx-node/runtime/admission-error.ts';
import { createBatcher, type Batcher } from '../../../templates/onnx-node/runtime/batcher.ts';
import { createLatencyEstimator } from '../../../templates/onnx-node/runtime/latency-estimator.ts';
import { ManualTimers, settle } from './manual-timers.ts';
import { ungatedDevice, type DeviceGate } from '../../../templates/onnx-node/runtime/token-gate.ts';

/** A fake executor: each batch takes `perBatch + perItem·n` ms of manual time; records batch sizes. */
function fakeRunner(clock: ManualClock, timers: ManualTimers, perBatch = 10, perItem = 2) {
  const batches: number[][] = [];
  let running = 0;
  let maxConcurrent = 0;
  return {
    batches,
    get maxConcurrent() {
      return maxConcurrent;
    },
    runBatch(items: number[]): Promise<number[]> {
      batches.push([...items]);
      running++;
      maxConcurrent = Math.max(maxConcurrent, running);
      return new Promise((resolve) =>
        timers.after(perBatch + perItem * items.length, () => {
          running--;
          resolve(items.map((x) => x * 10));
        }),
      );
    },
  };
}

/** The rejection of `p` if it settles at once, else 'pending' (and its later rejection is ignored). */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  let state: unknown = 'pending';
  p.then(
    (v) => (state = v),
    (e: unknown) => (state = e),
  );
  await settle();
  return state;
}

function setup(
  over: {
    sloMs?: number;
    maxBatch?: number;
    maxQueue?: number;
    maxQueueDelayMs?: number;
    prior?: number;
    incoming?: () => number;
  } = {},
) {
  const clock = new ManualClock(1_000);
  const timers = new ManualTimers(clock);
  const runner = fakeRunner(clock, timers);
  const estimator = createLatencyEstimator({ prior: (b) => (over.prior ?? 10) + 2 * b });
  const batcher: Batcher<number, number> = createBatcher({
    runBatch: (items) => runner.runBatch(items),
    maxBatch: over.maxBatch ?? 4,
    maxQueue: over.maxQueue ?? 100,
    sloMs: over.sloMs ?? 200,
    maxQueueDelayMs: over.maxQueueDelayMs,
    estimator,
    incoming: over.incoming,
    clock,
    timers,
    logger: silentLogger,
  });
  return { clock, timers, runner, batcher, estimator };
}

describe('onnx-node batcher', () => {
  it('runs a lone request at once; with another on its way it waits the queue delay derived from the SLO, not longer', async () => {
    let onTheWay = 0;
    const { clock, timers, runner, batcher } = setup({ sloMs: 200, incoming: () => onTheWay });
    // default delay = min(0.5·200 − ℓ(4), ℓ(4)) = min(82, 18) = 18 ms: never longer than a full batch runs
    expect(batcher.queueDelayMs()).to.equal(18);
    const t0 = clock.now();
    const lone = batcher.submit(6); // nothing queued, running or on its way: a batch of 1, now
    await settle();
    expect(runner.batches).to.deep.equal([[6]]);
    expect(clock.now()).to.equal(t0);
    await timers.advance(12);
    expect(await lone).to.equal(60);
    onTheWay = 1; // e.g. a request being decoded
    const result = batcher.submit(7);
    await timers.advance(17);
    expect(runner.batches).to.have.length(1);
    await timers.advance(1);
    expect(runner.batches).to.deep.equal([[6], [7]]);
    await timers.advance(12);
    expect(await result).to.equal(70);
  });

  it('dispatches at once when a full batch is queued; the rest waits for the delay from its oldest arrival', async () => {
    const { timers, runner, batcher } = setup({ maxBatch: 4 });
    const results = [1, 2, 3, 4, 5, 6, 7].map((x) => batcher.submit(x));
    await settle();
    expect(runner.batches).to.deep.equal([[1, 2, 3, 4]]);
    await timers.advance(17); // 5,6,7 arrived at 0 (a burst); delay 18 ms; the first batch runs till 18
    expect(runner.batches).to.have.length(1);
    await timers.advance(1);
    expect(runner.batches).to.deep.equal([
      [1, 2, 3, 4],
      [5, 6, 7],
    ]);
    await timers.advance(64);
    await timers.advance(16);
    expect(await Promise.all(results)).to.deep.equal([10, 20, 30, 40, 50, 60, 70]);
    expect(runner.maxConcurrent).to.equal(1);
    expect(batcher.stats()).to.include({ batches: 2, served: 7, queued: 0, running: 0 });
  });

  it('runs a lone request at once under light load, but waits for a fuller batch while requests keep coming', async () => {
    const { timers, runner, batcher } = setup({ maxBatch: 4, maxQueueDelayMs: 50 });
    // light load: once arrivals are known to come 200 ms apart (more than the 50 ms delay),
    // a request no longer waits for company
    const light: Promise<number>[] = [batcher.submit(1)];
    await timers.advance(200); // the first one, with no history, waited the delay
    for (const x of [2, 3]) {
      light.push(batcher.submit(x));
      await settle();
      expect(runner.batches.at(-1)).to.deep.equal([x]);
      await timers.advance(200);
    }
    expect(await Promise.all(light)).to.deep.equal([10, 20, 30]);
    // heavier load: arrivals 5 ms apart; the gap estimate shrinks and requests are batched
    const heavy: Promise<number>[] = [];
    for (let i = 0; i < 12; i++) {
      heavy.push(batcher.submit(100 + i));
      await settle();
      await timers.advance(5);
    }
    await timers.advance(200);
    await Promise.all(heavy);
    const sizes = runner.batches.slice(3).map((b) => b.length);
    expect(Math.max(...sizes)).to.be.at.least(2);
    expect(sizes.reduce((a, b) => a + b, 0)).to.equal(12);
  });

  it('stops waiting for a fuller batch once a burst is over (closed loop of a few clients)', async () => {
    const { clock, timers, runner, batcher } = setup({ maxBatch: 8, maxQueueDelayMs: 60, sloMs: 1_000 });
    // three closed-loop clients: each sends again as soon as its answer comes, so requests arrive in bursts of
    // three, 0.1 ms apart, and nothing more until the batch is answered
    const latencies: number[] = [];
    for (let round = 0; round < 6; round++) {
      const sent = clock.now();
      const burst: Promise<number>[] = [];
      for (let c = 0; c < 3; c++) {
        burst.push(batcher.submit(round * 10 + c));
        await settle();
        if (c < 2) await timers.advance(0.1);
      }
      let done = false;
      void Promise.all(burst).then(() => (done = true));
      while (!done) await timers.advance(0.5);
      latencies.push(clock.now() - sent);
    }
    // once arrivals are known to be concurrent, every burst runs as one batch of three (16 ms)...
    expect(runner.batches.slice(-3).map((b) => b.length)).to.deep.equal([3, 3, 3]);
    // ...within a few ms of its last arrival, not after the 60 ms delay: about 16 ms a round instead of 76
    for (const l of latencies.slice(-3)) expect(l).to.be.below(20);
  });

  it('takes up to maxBatch of a long queue when the executor frees', async () => {
    const { timers, runner, batcher } = setup({ maxBatch: 2, sloMs: 1_000 });
    const results = [1, 2, 3, 4, 5].map((x) => batcher.submit(x));
    await settle();
    await timers.advance(14);
    expect(runner.batches).to.deep.equal([
      [1, 2],
      [3, 4],
    ]);
    await timers.advance(500);
    expect(runner.batches).to.deep.equal([[1, 2], [3, 4], [5]]);
    expect(await Promise.all(results)).to.deep.equal([10, 20, 30, 40, 50]);
  });

  it('a request arriving during the wait joins the batch', async () => {
    let onTheWay = 1; // a second request is being decoded
    const { timers, runner, batcher } = setup({ maxQueueDelayMs: 50, incoming: () => onTheWay });
    const a = batcher.submit(1);
    await timers.advance(30);
    expect(runner.batches).to.deep.equal([]); // still waiting for company
    onTheWay = 0;
    const b = batcher.submit(2);
    await settle();
    // it joined the batch; with arrivals 30 ms apart a third is not expected before the 50 ms
    // deadline, so the batch runs now rather than idling until then
    expect(runner.batches).to.deep.equal([[1, 2]]);
    await timers.advance(14);
    expect(await Promise.all([a, b])).to.deep.equal([10, 20]);
  });

  it('never waits so long that a queued request would miss its deadline', async () => {
    const { timers, runner, batcher } = setup({ maxQueueDelayMs: 1_000, sloMs: 100, incoming: () => 1 });
    void batcher.submit(1); // another is on its way (and never comes)
    // latest start = deadline(100) − ℓ(2)=14 → 86 ms
    await timers.advance(85);
    expect(runner.batches).to.have.length(0);
    await timers.advance(1);
    expect(runner.batches).to.deep.equal([[1]]);
  });

  it('rejects at once, with a typed 429 error, a request whose SLO is already impossible', async () => {
    const { timers, batcher } = setup({ sloMs: 40, maxBatch: 2 });
    const accepted = [1, 2, 3, 4, 5].map((x) => batcher.submit(x));
    await settle();
    // [1,2] runs until +14; [3,4] then takes 14 → 28; 5 is alone in the next batch: 28 + ℓ(1)=12 = 40 ≤ 40
    const late = await outcome(batcher.submit(6)); // with 5: 28 + ℓ(2)=14 = 42 > 40
    expect(late).to.be.instanceOf(AdmissionRejectedError);
    const e = late as AdmissionRejectedError;
    expect(e).to.be.instanceOf(PlatformError);
    expect(e.code).to.equal('too_many_requests');
    expect(e.status).to.equal(429);
    expect(e.reason).to.equal('slo_unattainable');
    expect(e.message).to.match(/40 ms SLO: expected 42 ms with 3 queued/);
    expect(batcher.stats().rejected).to.deep.equal({ slo_unattainable: 1 });
    await timers.advance(100);
    expect(await Promise.all(accepted)).to.deep.equal([10, 20, 30, 40, 50]);
  });

  it('an idle replica serves a lone request whatever its estimate says, and the estimate learns from it', async () => {
    // the estimate says 502 ms for one item (a warm-up beside every other replica's, an overload
    // that has passed); the executor really takes 12 ms; the SLO is 200 ms
    const { timers, runner, batcher, estimator } = setup({ sloMs: 200, prior: 500 });
    expect(batcher.expectedLatencyMs()).to.equal(502);
    const first = batcher.submit(1); // nothing queued, nothing running: it runs
    await settle();
    expect(runner.batches).to.deep.equal([[1]]);
    await timers.advance(12);
    expect(await first).to.equal(10);
    // the measurement replaced the prior for size 1
    expect(estimator.estimate(1)).to.equal(12);
    expect(batcher.stats()).to.include({ served: 1 });
    expect(batcher.stats().rejected).to.deep.equal({});
  });

  it('serves back-to-back single calls on a quiet replica whose estimate is absurdly high (issue 14: 6 of 8 refused)', async () => {
    const { timers, runner, batcher, estimator } = setup({ sloMs: 1_000 });
    estimator.seed(1, 1_168); // the warm-up figure of the report
    estimator.seed(2, 6_200); // and the overload one
    const results: number[] = [];
    for (let i = 1; i <= 8; i++) {
      const p = batcher.submit(i);
      await timers.advance(12);
      results.push(await p);
    }
    expect(results).to.deep.equal([10, 20, 30, 40, 50, 60, 70, 80]);
    expect(runner.batches).to.have.length(8);
    expect(batcher.stats().rejected).to.deep.equal({});
    expect(estimator.estimate(1)).to.equal(12); // the first real sample replaced the warm-up figure
  });

  it('an idle-admitted request is not dropped at dispatch on its estimate', async () => {
    const { timers, runner, batcher } = setup({ sloMs: 100, prior: 10_000 });
    const p = batcher.submit(3);
    await timers.advance(12);
    expect(await p).to.equal(30);
    expect(runner.batches).to.deep.equal([[3]]);
    expect(batcher.stats().rejected).to.deep.equal({});
  });

  it('still sheds under real load: with a batch running, a request the estimate says will be late is refused', async () => {
    // real speed: 10 + 2n ms; the SLO is 30 ms; one batch of 4 keeps the executor busy 18 ms
    const { timers, batcher } = setup({ sloMs: 30, maxBatch: 4 });
    const first = batcher.submit(1); // idle: runs (12 ms), and measures ℓ(1) = 12
    await timers.advance(12);
    expect(await first).to.equal(10);
    const burst = [1, 2, 3, 4].map((x) => batcher.submit(x)); // idle: the first runs at once, the rest join its burst
    await settle();
    const later = [5, 6, 7, 8].map((x) => batcher.submit(x));
    const outcomes = await Promise.all(later.map((p) => outcome(p)));
    const refused = outcomes.filter((o) => o instanceof AdmissionRejectedError);
    expect(refused.length).to.be.greaterThan(0);
    for (const r of refused) expect((r as AdmissionRejectedError).reason).to.equal('slo_unattainable');
    await timers.advance(200);
    expect(await Promise.all(burst)).to.deep.equal([10, 20, 30, 40]);
  });

  it('sizes a batch to what is left of the token, but when one item overruns it anyway adds items that cost at most a quarter more', async () => {
    const clock = new ManualClock(1_000);
    const timers = new ManualTimers(clock);
    const runner = fakeRunner(clock, timers);
    const estimator = createLatencyEstimator({ prior: (b) => 10 + 2 * b }); // 12, 14, 16, 18 ms
    let quotaLeft = 5;
    const gate: DeviceGate = { ...ungatedDevice, run: (_expected, work) => work(quotaLeft) };
    const batcher = createBatcher<number, number>({
      runBatch: (i) => runner.runBatch(i),
      maxBatch: 4,
      maxQueue: 100,
      sloMs: 1000,
      maxQueueDelayMs: 0,
      estimator,
      gate,
      clock,
      timers,
      logger: silentLogger,
    });
    const all = [1, 2, 3, 4, 5, 6].map((x) => batcher.submit(x));
    await settle();
    // 5 ms left: one item (12 ms) overruns; up to 1.25 × 12 = 15 ms → two items (14 ms)
    expect(runner.batches[0]).to.deep.equal([1, 2]);
    quotaLeft = 16; // fits three items (16 ms)
    await timers.advance(14);
    expect(runner.batches[1]).to.deep.equal([3, 4, 5]);
    await timers.advance(100);
    expect(await Promise.all(all)).to.deep.equal([10, 20, 30, 40, 50, 60]);
    await batcher.close();
  });

  it('rejects when the queue is full and accepts again once it drains', async () => {
    const { timers, batcher } = setup({ maxQueue: 2, maxBatch: 1, sloMs: 10_000 });
    const accepted = [batcher.submit(1), batcher.submit(2), batcher.submit(3)]; // 1 runs, 2 and 3 wait
    await settle();
    const full = await outcome(batcher.submit(4));
    expect(full).to.be.instanceOf(AdmissionRejectedError);
    expect((full as AdmissionRejectedError).reason).to.equal('queue_full');
    expect((full as AdmissionRejectedError).message).to.match(/queue full: 2 requests waiting \(limit 2\)/);
    expect(batcher.expectedLatencyMs()).to.equal(Infinity);
    await timers.advance(12); // 1 done, 2 runs, 3 waits
    const later = batcher.submit(5);
    expect(await outcome(later)).to.equal('pending');
    await timers.advance(100);
    expect(await Promise.all([...accepted, later])).to.deep.equal([10, 20, 30, 50]);
  });

  it('learns batch latency online and rejects when the executor turns out slower than assumed', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const estimator = createLatencyEstimator({ prior: () => 5 });
    const batcher = createBatcher<number, number>({
      runBatch: (items) => new Promise((r) => timers.after(60, () => r(items))),
      maxBatch: 8,
      maxQueue: 100,
      sloMs: 100,
      maxQueueDelayMs: 0,
      estimator,
      clock,
      timers,
      logger: silentLogger,
    });
    const first = batcher.submit(1); // prior says 5 ms: accepted
    await timers.advance(60);
    expect(await first).to.equal(1);
    expect(estimator.estimate(1)).to.equal(60);
    void batcher.submit(2); // runs 60 ms
    await settle();
    const err = await batcher.submit(3).catch((e: unknown) => e); // 60 + 60 = 120 > 100
    expect((err as AdmissionRejectedError).reason).to.equal('slo_unattainable');
    await timers.advance(60);
  });

  it('passes a failed batch error to every request in it and keeps serving', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    let fail = true;
    const batcher = createBatcher<number, number>({
      runBatch: async (items) => {
        if (fail) throw new PlatformError('internal', 'boom');
        return items;
      },
      maxBatch: 2,
      maxQueue: 10,
      sloMs: 100,
      maxQueueDelayMs: 0,
      estimator: createLatencyEstimator({ prior: () => 1 }),
      clock,
      timers,
      logger: silentLogger,
    });
    const errs = await Promise.all([batcher.submit(1), batcher.submit(2)].map((p) => p.catch((e: Error) => e.message)));
    expect(errs).to.deep.equal(['boom', 'boom']);
    fail = false;
    expect(await batcher.submit(3)).to.equal(3);
  });

  it('close rejects what is queued and waits for the running batch', async () => {
    const { timers, batcher } = setup({ maxBatch: 1 });
    const running = batcher.submit(1);
    const queued = batcher.submit(2).catch((e: AdmissionRejectedError) => e.reason);
    await settle();
    const closing = batcher.close();
    expect(await queued).to.equal('closed');
    await timers.advance(12);
    await closing;
    expect(await running).to.equal(10);
    expect(await batcher.submit(3).catch((e: AdmissionRejectedError) => e.reason)).to.equal('closed');
  });

  it('rejects invalid options', () => {
    const clock = new ManualClock();
    const base = {
      runBatch: async (i: number[]) => i,
      maxQueue: 1,
      sloMs: 10,
      estimator: createLatencyEstimator({ prior: () => 1 }),
      clock,
      timers: new ManualTimers(clock),
      logger: silentLogger,
    };
    expect(() => createBatcher({ ...base, maxBatch: 0 })).to.throw(/maxBatch must be a positive whole number/);
    expect(() => createBatcher({ ...base, maxBatch: 1, sloMs: -1 })).to.throw(/sloMs/);
  });
});
