import { expect } from 'chai';
import { ManualClock } from '../../../core/clock.ts';
import {
  createLatencyEstimator,
  DEFAULT_STALE_HALF_LIFE_MS,
} from '../../../templates/onnx-node/runtime/latency-estimator.ts';

describe('onnx-node latency estimator', () => {
  it('uses the prior until something is observed', () => {
    const e = createLatencyEstimator({ prior: (b) => 10 + b });
    expect(e.estimate(1)).to.equal(11);
    expect(e.estimate(8)).to.equal(18);
  });

  it('keeps an exponentially weighted mean per batch size', () => {
    const e = createLatencyEstimator({ prior: () => 1, alpha: 0.5 });
    e.observe(4, 20);
    expect(e.estimate(4)).to.equal(20);
    e.observe(4, 40);
    expect(e.estimate(4)).to.equal(30);
    expect(e.snapshot()).to.deep.equal({ 4: 30 });
  });

  it('interpolates between observed sizes and scales by the prior outside them', () => {
    const e = createLatencyEstimator({ prior: (b) => 10 + 2 * b, alpha: 1 });
    e.observe(2, 28); // twice the prior (14)
    e.observe(6, 60);
    expect(e.estimate(4)).to.equal(44);
    expect(e.estimate(1)).to.be.closeTo((28 * 12) / 14, 1e-9);
    expect(e.estimate(12)).to.be.closeTo((60 * 34) / 22, 1e-9);
  });

  it('ignores nonsense samples and rejects a bad alpha', () => {
    const e = createLatencyEstimator({ prior: () => 5 });
    e.observe(1, Number.NaN);
    e.observe(0, 3);
    expect(e.estimate(1)).to.equal(5);
    expect(() => createLatencyEstimator({ prior: () => 1, alpha: 0 })).to.throw(/alpha/);
  });

  it('a warm-up figure is provisional: the first served batch replaces it', () => {
    const e = createLatencyEstimator({ prior: () => 0 });
    e.seed(1, 1_168);
    expect(e.estimate(1)).to.equal(1_168);
    e.observe(1, 60);
    expect(e.estimate(1)).to.equal(60);
    e.seed(1, 5_000); // a later warm-up does not override a measurement
    expect(e.estimate(1)).to.equal(60);
    e.seed(0, 5);
    e.seed(2, Number.POSITIVE_INFINITY);
    expect(e.snapshot()).to.deep.equal({ 1: 60 });
  });

  it('a stale high estimate falls back to the measured speed within a few served calls', () => {
    const e = createLatencyEstimator({ prior: () => 0 });
    e.observe(1, 6_200); // measured during an overload
    e.observe(1, 6_200);
    const after: number[] = [];
    for (let i = 0; i < 10; i++) {
      e.observe(1, 60); // the machine is quiet again
      after.push(e.estimate(1));
    }
    for (let i = 1; i < after.length; i++) expect(after[i]).to.be.below(after[i - 1]);
    expect(after[4]).to.be.below(60 + (6_200 - 60) / 20); // five calls: within 5 % of the excess
    expect(after[9]).to.be.closeTo(60, 60 * 0.1); // ten calls: within 10 % of the measured value
  });

  it('one slow call moves a settled estimate only a little', () => {
    const e = createLatencyEstimator({ prior: () => 0 });
    for (let i = 0; i < 5; i++) e.observe(1, 60);
    e.observe(1, 600); // a pause, a neighbour's burst
    expect(e.estimate(1)).to.equal(60 + 0.2 * 540);
    e.observe(1, 60);
    expect(e.estimate(1)).to.be.closeTo(60 + 0.5 * 0.2 * 540, 1e-9);
  });

  it('without calls, what an estimate exceeds its prior by halves every half-life', () => {
    const clock = new ManualClock(0);
    const e = createLatencyEstimator({ prior: (b) => 10 * b, clock });
    e.observe(1, 6_010);
    e.observe(4, 20); // below its prior (40): kept, not raised
    expect(e.estimate(1)).to.equal(6_010);
    clock.advance(DEFAULT_STALE_HALF_LIFE_MS);
    expect(e.estimate(1)).to.be.closeTo(10 + 3_000, 1e-6);
    expect(e.snapshot()[1]).to.be.closeTo(3_010, 1e-6);
    expect(e.estimate(4)).to.equal(20);
    clock.advance(9 * DEFAULT_STALE_HALF_LIFE_MS);
    expect(e.estimate(1)).to.be.closeTo(10 + 6_000 / 1024, 1e-6);
    // a new sample starts from the decayed value, not from the stale one
    e.observe(1, 20);
    expect(e.estimate(1)).to.be.closeTo(10 + 6_000 / 1024 + 0.2 * (20 - 10 - 6_000 / 1024), 1e-6);
  });

  it('without a clock, estimates do not decay; rejects bad options', () => {
    const e = createLatencyEstimator({ prior: () => 0 });
    e.observe(1, 100);
    expect(e.estimate(1)).to.equal(100);
    expect(() => createLatencyEstimator({ prior: () => 1, fallAlpha: 1.5 })).to.throw(/fallAlpha/);
    expect(() => createLatencyEstimator({ prior: () => 1, staleHalfLifeMs: 0 })).to.throw(/staleHalfLifeMs/);
  });
});
