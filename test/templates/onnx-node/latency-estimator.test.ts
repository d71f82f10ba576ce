import { expect } from 'chai';
import { createLatencyEstimator } from '../../../templates/onnx-node/runtime/latency-estimator.ts';

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
});
