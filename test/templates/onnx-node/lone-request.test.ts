/**
 * Light load through the inference layer (decode → batcher → gate → executor), on a manual clock:
 * a lone request on an idle replica runs as a batch of 1 at once (its batch wait is recorded as
 * 0), at concurrency 1 every request does, and the per-request stages (Server-Timing) are the
 * times each step really took. Waiting for a fuller batch is kept for concurrent load.
 */
import { expect } from 'chai';
import { ManualClock } from '../../../core/clock.ts';
import { silentLogger } from '../../../core/logger.ts';
import type { ExecutionBackend } from '../../../templates/onnx-node/runtime/backends/backend.ts';
import type { Executor } from '../../../templates/onnx-node/runtime/executor.ts';
import { createInference, type Inference } from '../../../templates/onnx-node/runtime/inference.ts';
import type { ModelFunction } from '../../../templates/onnx-node/runtime/model-function.ts';
import { createServerTiming, type ServerTiming } from '../../../templates/onnx-node/runtime/server-timing.ts';
import type { DeviceGate } from '../../../templates/onnx-node/runtime/token-gate.ts';
import { ManualTimers, settle } from './manual-timers.ts';

/** decode 2 ms; per batch: 1 ms building feeds, the executor 5 + n ms, 1 ms post-processing. */
function setup(o: { gate?: DeviceGate; maxQueueDelayMs?: number } = {}) {
  const clock = new ManualClock(10_000);
  const timers = new ManualTimers(clock);
  const batches: number[][] = [];
  const executor: Executor = {
    info: { device: 'cpu', inputs: [], outputs: [] },
    run(feeds) {
      const n = feeds.x.dims[0];
      return new Promise((resolve) =>
        timers.after(5 + n, () => resolve({ y: { type: 'float32', dims: [n], data: new Float32Array(n) } })),
      );
    },
    close: async () => {},
  };
  const backend: ExecutionBackend = {
    device: 'cpu',
    describe: () => ({ device: 'cpu', partitionPercent: 100 }),
    open: async () => executor,
  };
  const fn: ModelFunction<number, number> = {
    name: 'fake',
    path: '/nonexistent.onnx',
    decode: (body) => new Promise((resolve) => timers.after(2, () => resolve(Number(body.toString())))),
    async infer(e, inputs) {
      batches.push([...inputs]);
      await new Promise<void>((r) => timers.after(1, r));
      await e.run({ x: { type: 'float32', dims: [inputs.length], data: new Float32Array(inputs) } });
      await new Promise<void>((r) => timers.after(1, r));
      return inputs.map((x) => x * 10);
    },
    outputShapes: () => ({}),
  };
  const made = createInference<number, number>({
    fn,
    backend,
    maxBatch: 4,
    maxQueue: 16,
    sloMs: 1_000,
    maxQueueDelayMs: o.maxQueueDelayMs ?? 50,
    prior: () => 6,
    gate: o.gate,
    clock,
    timers,
    logger: silentLogger,
  });
  return { clock, timers, batches, made };
}

const stages = (t: ServerTiming) => Object.fromEntries(t.entries().map((e) => [e.name, e.dur]));

/** One call, start to answer, on the manual clock: its result, stages and total time. */
async function call(inf: Inference<number, number>, clock: ManualClock, timers: ManualTimers, x: number) {
  const timing = createServerTiming();
  const start = clock.now();
  let result: number | undefined;
  const p = inf.invoke(Buffer.from(String(x)), 'text/plain', { timing }).then((r) => (result = r));
  for (let i = 0; i < 200 && result === undefined; i++) await timers.advance(1);
  await p;
  return { result, stages: stages(timing), totalMs: clock.now() - start };
}

describe('onnx-node light load: a lone request runs at once, and its stages are recorded', () => {
  it('an idle replica runs a lone request as a batch of 1 at once: batch wait 0, every stage its real time', async () => {
    const { clock, timers, batches, made } = setup();
    const inf = await made;
    const r = await call(inf, clock, timers, 7);
    expect(r.result).to.equal(70);
    expect(batches).to.deep.equal([[7]]);
    expect(r.stages).to.deep.equal({ decode: 2, batch: 0, token: 0, prep: 2, infer: 6 });
    expect(r.totalMs).to.equal(10); // the stages account for all of it: no wait for company
  });

  it('at concurrency 1 (closed loop) every request runs alone with no batch wait', async () => {
    const { clock, timers, batches, made } = setup();
    const inf = await made;
    for (let x = 1; x <= 10; x++) {
      const r = await call(inf, clock, timers, x);
      expect(r.result).to.equal(10 * x);
      expect(r.stages.batch).to.equal(0);
      expect(r.totalMs).to.equal(10);
    }
    expect(batches.map((b) => b.length)).to.deep.equal(new Array(10).fill(1));
    expect(inf.stats()).to.include({ batches: 10, served: 10 });
  });

  it('under concurrent load it waits for a request on its way to join the batch, and records that wait', async () => {
    const { clock, timers, batches, made } = setup({ maxQueueDelayMs: 50 });
    const inf = await made;
    const timings = [createServerTiming(), createServerTiming()];
    const start = clock.now();
    // two requests decoding at once: when the first is decoded the second is on its way
    const both = Promise.all(
      [1, 2].map((x, i) => inf.invoke(Buffer.from(String(x)), 'text/plain', { timing: timings[i] })),
    );
    await timers.advance(200);
    expect(await both).to.deep.equal([10, 20]);
    expect(batches).to.deep.equal([[1, 2]]);
    for (const t of timings) {
      const s = stages(t);
      // it waited for the one on its way (one batch of both), then not the rest of the 50 ms delay: once both
      // were in, arrivals had paused and nothing else was on its way
      expect(s.batch, 'the wait is recorded').to.be.a('number').and.below(50);
      const sum = Object.values(s).reduce((a, b) => a! + b!, 0)!;
      expect(sum).to.be.at.most(clock.now() - start);
    }
  });

  it('after a burst, single calls stop waiting within a few requests', async () => {
    const { clock, timers, made } = setup({ maxQueueDelayMs: 50 });
    const inf = await made;
    const burst = Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((x) => inf.invoke(Buffer.from(String(x)), 'text/plain')));
    await timers.advance(300);
    await burst;
    const waits: number[] = [];
    for (let x = 1; x <= 6; x++) waits.push((await call(inf, clock, timers, x)).stages.batch!);
    expect(waits.slice(2)).to.deep.equal([0, 0, 0, 0]);
  });

  it('on a shared device a lone request pays the token round trip once, as the token stage', async () => {
    let grants = 0;
    const clockBox: { clock?: ManualClock; timers?: ManualTimers } = {};
    const gate: DeviceGate = {
      async run(_expected, work) {
        grants++;
        await new Promise<void>((r) => clockBox.timers!.after(3, r)); // acquire → grant
        return work(Infinity);
      },
      expectedWaitMs: () => 0,
      stats: () => ({ gated: true, tokens: grants, reused: 0, waitMs: 0, meanWaitMs: 0, heldNow: false }),
      forgetWaits() {},
      close() {},
    };
    const { clock, timers, made } = setup({ gate });
    clockBox.clock = clock;
    clockBox.timers = timers;
    const inf = await made;
    const r = await call(inf, clock, timers, 4);
    expect(r.result).to.equal(40);
    expect(r.stages).to.deep.equal({ decode: 2, batch: 0, token: 3, prep: 2, infer: 6 });
    expect(grants).to.equal(1);
    expect(r.totalMs).to.equal(13);
  });

  it('tolerates requests without a timing (pipelines, warm-up)', async () => {
    const { timers, made } = setup();
    const inf = await made;
    const p = inf.submit(5);
    await settle();
    await timers.advance(20);
    expect(await p).to.equal(50);
  });
});
