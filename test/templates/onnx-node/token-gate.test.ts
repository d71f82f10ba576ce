import { expect } from 'chai';
import { ManualClock } from '../../../core/clock.ts';
import { createTokenGate, type TokenSource } from '../../../templates/onnx-node/runtime/token-gate.ts';
import type { AcquireHint } from '../../../core/contracts/token-channel.ts';
import { createBatcher } from '../../../templates/onnx-node/runtime/batcher.ts';
import { createLatencyEstimator } from '../../../templates/onnx-node/runtime/latency-estimator.ts';
import { CaptureSink, createLogger } from '../../../core/logger.ts';
import { systemTimers } from '../../../templates/onnx-node/runtime/timers.ts';
import { ManualTimers, settle } from './manual-timers.ts';

/** A token source driven by hand: each acquire waits until the test grants it. */
function fakeSource(clock: ManualClock) {
  const calls: { op: 'acquire' | 'release'; burstMs?: number; at: number }[] = [];
  const hints: AcquireHint[] = [];
  let grant: ((g: { quotaMs: number }) => void) | undefined;
  const source: TokenSource = {
    windowMs: 1000,
    acquire(hint = {}) {
      hints.push(hint);
      calls.push({ op: 'acquire', burstMs: hint.burstMs, at: clock.now() });
      return new Promise((r) => (grant = r));
    },
    release: () => void calls.push({ op: 'release', at: clock.now() }),
    close() {},
  };
  return { source, calls, hints, grant: (quotaMs: number) => grant!({ quotaMs }) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('onnx-node token gate', () => {
  it('waits for a grant, holds the token across back-to-back batches, releases when idle', async () => {
    const clock = new ManualClock(0);
    const f = fakeSource(clock);
    const gate = createTokenGate({ source: f.source, clock });
    let ran = 0;
    const p1 = gate.run(10, async () => ran++);
    await tick();
    expect(ran, 'no work before the grant').to.equal(0);
    // before any burst is measured it reports the batch it waits to run (10 ms)
    expect(f.calls).to.deep.equal([{ op: 'acquire', burstMs: 10, at: 0 }]);
    clock.advance(40);
    f.grant(100);
    await p1;
    expect(ran).to.equal(1);
    // a second batch starting in the same turn reuses the token (no new acquire)
    const p2 = gate.run(10, async () => {
      clock.advance(30);
      ran++;
    });
    await p2;
    await tick();
    expect(f.calls.map((c) => c.op)).to.deep.equal(['acquire', 'release']);
    expect(gate.stats()).to.include({ tokens: 1, reused: 1, waitMs: 40, heldNow: false });
    // the next token reports the burst measured under the previous one (30 ms of work)
    void gate.run(10, async () => {});
    await tick();
    expect(f.calls[2]).to.include({ op: 'acquire', burstMs: 30 });
  });

  it("tells the scheduler the batch's least run and its slack (late: 0), both absent when unknown", async () => {
    const clock = new ManualClock(0);
    const f = fakeSource(clock);
    const gate = createTokenGate({ source: f.source, clock });
    const p1 = gate.run(40, async () => {}, { minRunMs: 12, slackMs: 55 });
    await tick();
    expect(f.hints[0]).to.deep.equal({ burstMs: 40, minRunMs: 12, slackMs: 55 });
    f.grant(100);
    await p1;
    await tick();
    // a least run above the whole batch's is the batch's; a negative slack (already late) is 0
    const p2 = gate.run(8, async () => {}, { minRunMs: 30, slackMs: -5 });
    await tick();
    expect(f.hints[1]).to.include({ minRunMs: 8, slackMs: 0 });
    f.grant(100);
    await p2;
    await tick();
    const p3 = gate.run(8, async () => {});
    await tick();
    expect(f.hints[2]).to.include({ minRunMs: 8 });
    expect(f.hints[2]!.slackMs).to.equal(undefined);
    f.grant(100);
    await p3;
  });

  it('asks again when the held token no longer covers the next batch, and runs a fresh grant even if short', async () => {
    const clock = new ManualClock(0);
    const f = fakeSource(clock);
    const gate = createTokenGate({ source: f.source, clock });
    const order: string[] = [];
    const a = gate.run(10, async () => {
      clock.advance(45);
      order.push('a');
    });
    await tick();
    f.grant(50);
    await a;
    // 5 ms are left of the 50 ms token: a 10 ms batch needs a new one
    const b = gate.run(10, async () => {
      clock.advance(80); // longer than the new 20 ms quota: runs anyway, the overrun is charged
      order.push('b');
    });
    await tick();
    expect(f.calls.map((c) => c.op)).to.deep.equal(['acquire', 'acquire']);
    expect(f.calls[1]!.burstMs, 'the 45 ms burst ran the token out with work waiting: doubled').to.equal(90);
    f.grant(20);
    await b;
    await tick();
    expect(order).to.deep.equal(['a', 'b']);
    expect(f.calls.map((c) => c.op)).to.deep.equal(['acquire', 'acquire', 'release']);
  });

  it('reports the waiting batch as the burst when it is longer than the last one, so short tokens do not keep batches small', async () => {
    const clock = new ManualClock(0);
    const f = fakeSource(clock);
    const gate = createTokenGate({ source: f.source, clock });
    const a = gate.run(5, async () => void clock.advance(5)); // a batch of one under a 10 ms token
    await tick();
    f.grant(10);
    await a;
    await tick(); // idle: released
    void gate.run(40, async () => {}); // now a full batch (40 ms) waits
    await tick();
    expect(f.calls.map((c) => c.op)).to.deep.equal(['acquire', 'release', 'acquire']);
    expect(f.calls[2]!.burstMs, 'the longer of the last burst (5) and the waiting batch (40)').to.equal(40);
  });

  it('forgets the waits of the warm-up: the next wait sets the mean afresh', async () => {
    const clock = new ManualClock(0);
    const f = fakeSource(clock);
    const gate = createTokenGate({ source: f.source, clock });
    const a = gate.run(5, async () => void clock.advance(5));
    await tick();
    clock.advance(800); // a crowded warm-up: 800 ms for a token
    f.grant(50);
    await a;
    await tick();
    expect(gate.expectedWaitMs(5)).to.be.greaterThan(700);
    gate.forgetWaits();
    expect(gate.expectedWaitMs(5)).to.equal(0);
    const b = gate.run(5, async () => void clock.advance(5));
    await tick();
    clock.advance(4);
    f.grant(50);
    await b;
    expect(gate.stats().meanWaitMs, 'the first wait after forgetting is the mean').to.equal(4);
  });

  it('expects no wait under a token that covers the work, the mean wait otherwise, fading over an idle window', async () => {
    const clock = new ManualClock(0);
    const f = fakeSource(clock);
    const gate = createTokenGate({ source: f.source, clock });
    const p = gate.run(5, async () => {
      expect(gate.expectedWaitMs(50)).to.equal(0);
      expect(gate.expectedWaitMs(500), 'longer than the quota left').to.equal(200);
    });
    clock.advance(200);
    f.grant(100);
    await p;
    await tick();
    expect(gate.expectedWaitMs(5)).to.equal(200);
    clock.advance(500);
    expect(gate.expectedWaitMs(5)).to.be.closeTo(100, 1e-9);
    clock.advance(600);
    expect(gate.expectedWaitMs(5)).to.equal(0);
  });

  it('makes the batcher measure compute time only and count the token wait in admission', async () => {
    const clock = new ManualClock(0);
    const f = fakeSource(clock);
    const gate = createTokenGate({ source: f.source, clock });
    const estimator = createLatencyEstimator({ prior: () => 10 });
    const batcher = createBatcher<number, number>({
      runBatch: async (items) => {
        clock.advance(12);
        return items.map((x) => x * 2);
      },
      maxBatch: 4,
      maxQueue: 16,
      sloMs: 300,
      maxQueueDelayMs: 0,
      estimator,
      gate,
      clock,
      timers: systemTimers,
      logger: createLogger({ sink: new CaptureSink() }),
    });
    const first = batcher.submit(1);
    await tick();
    clock.advance(250); // waited 250 ms for the token
    f.grant(100);
    expect(await first).to.equal(2);
    expect(estimator.estimate(1), 'latency measured from the grant, not from dispatch').to.equal(12);
    await tick();
    // an idle replica whose token is out of reach within the SLO (mean wait 250 + 12 > 200) refuses:
    // that is the share limit, not a stale estimate (a batch-latency estimate alone never refuses it)
    const err = await batcher.submit(2, { sloMs: 200 }).catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.match(/cannot finish within the 200 ms SLO/);
    // with a looser SLO the idle replica takes it and waits for its grant
    const second = batcher.submit(3, { sloMs: 1000 });
    await tick();
    f.grant(100);
    expect(await second).to.equal(6);
    await batcher.close();
  });
});

describe('onnx-node token gate: keeping an idle token until the scheduler asks for it', () => {
  /** A fake source that can ask for the token back, as the real token channel does. */
  function yieldingSource(clock: ManualClock) {
    const f = fakeSource(clock);
    let yieldFn: (() => void) | undefined;
    f.source.onYield = (fn) => void (yieldFn = fn);
    return { ...f, yieldNow: () => yieldFn!() };
  }

  it('keeps the token for a batch that comes within lingerMs: no new acquire, no release in between', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const f = yieldingSource(clock);
    const gate = createTokenGate({ source: f.source, clock, timers, lingerMs: 10 });
    const a = gate.run(5, async () => void clock.advance(5));
    await settle();
    f.grant(100);
    await a;
    await timers.advance(4); // idle 4 ms: still held
    expect(f.calls.map((c) => c.op)).to.deep.equal(['acquire']);
    expect(gate.stats().heldNow).to.equal(true);
    await gate.run(5, async () => void clock.advance(5));
    expect(gate.stats()).to.include({ tokens: 1, reused: 1 });
    await timers.advance(10); // idle past the linger: given back
    expect(f.calls.map((c) => c.op)).to.deep.equal(['acquire', 'release']);
    expect(f.calls[1]!.at, 'released 10 ms after the second batch ended').to.equal(24);
  });

  it('gives an idle token back at once when the scheduler says others wait', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const f = yieldingSource(clock);
    const gate = createTokenGate({ source: f.source, clock, timers, lingerMs: 10 });
    const a = gate.run(5, async () => void clock.advance(5));
    await settle();
    f.grant(100);
    await a;
    await timers.advance(1);
    f.yieldNow();
    expect(f.calls.map((c) => c.op)).to.deep.equal(['acquire', 'release']);
    expect(f.calls[1]!.at).to.equal(6);
    expect(gate.stats().heldNow).to.equal(false);
  });

  it('after a yield during a batch, releases as soon as the batch ends (no linger)', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const f = yieldingSource(clock);
    const gate = createTokenGate({ source: f.source, clock, timers, lingerMs: 10 });
    let finish!: () => void;
    const a = gate.run(5, () => new Promise<void>((r) => (finish = r)));
    await settle();
    f.grant(100);
    await settle();
    f.yieldNow(); // busy: keeps it for the running batch
    expect(f.calls.map((c) => c.op)).to.deep.equal(['acquire']);
    clock.advance(7);
    finish();
    await a;
    await settle();
    expect(f.calls.map((c) => c.op)).to.deep.equal(['acquire', 'release']);
    expect(f.calls[1]!.at).to.equal(7);
  });

  it('after a yield, a busy holder asks again before its next batch instead of reusing the token', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const f = yieldingSource(clock);
    const gate = createTokenGate({ source: f.source, clock, timers, lingerMs: 10 });
    let finish!: () => void;
    const a = gate.run(5, () => new Promise<void>((r) => (finish = r)));
    await settle();
    f.grant(100);
    await settle();
    f.yieldNow();
    const b = gate.run(5, async () => {}); // 95 ms are left, but someone waits: ask again
    clock.advance(5);
    finish();
    await a;
    await settle();
    expect(f.calls.map((c) => c.op)).to.deep.equal(['acquire', 'acquire']);
    expect(f.calls[1]!.burstMs, 'a yield is not an exhausted token: the burst is not doubled').to.equal(5);
    f.grant(100);
    await b;
    expect(gate.stats()).to.include({ tokens: 2, reused: 0 });
  });

  it('never keeps an idle token past its quota', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const f = yieldingSource(clock);
    const gate = createTokenGate({ source: f.source, clock, timers, lingerMs: 50 });
    const a = gate.run(5, async () => void clock.advance(15));
    await settle();
    f.grant(20);
    await a;
    await timers.advance(60);
    expect(f.calls.map((c) => c.op)).to.deep.equal(['acquire', 'release']);
    expect(f.calls[1]!.at, 'at the end of the 20 ms token').to.equal(20);
  });
});
