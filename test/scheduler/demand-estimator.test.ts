import { expect } from 'chai';
import { createDemandEstimator } from '../../scheduler/demand-estimator.ts';

describe('scheduler/demand-estimator', () => {
  it('a steady rate is estimated as rate × headroom', () => {
    const e = createDemandEstimator({ headroom: 1.25 });
    for (let t = 0; t <= 60_000; t += 5000) e.observe(t, 100);
    const est = e.estimate();
    expect(est.rps).to.be.closeTo(125, 1e-6);
    expect(est.trendPerS).to.be.closeTo(0, 1e-9);
    expect(est.idle).to.equal(false);
  });

  it('a rising rate is projected ahead by its trend', () => {
    const e = createDemandEstimator({ headroom: 1, peakWindowMs: 1 });
    for (let t = 0; t <= 60_000; t += 5000) e.observe(t, 10 + t / 1000); // +1 rps per second
    const est = e.estimate();
    expect(est.trendPerS).to.be.closeTo(1, 0.1);
    expect(est.rps).to.be.greaterThan(70); // last sample 70, horizon 10 s ahead
  });

  it('keeps the recent peak, then decays, then reports idle after idleAfterMs of zeros', () => {
    const e = createDemandEstimator({ headroom: 1, peakWindowMs: 10_000, idleAfterMs: 30_000 });
    e.observe(0, 50);
    e.observe(5000, 0);
    expect(e.estimate().rps).to.equal(50);
    e.observe(20_000, 0);
    const decaying = e.estimate();
    expect(decaying.idle).to.equal(false);
    expect(decaying.rps).to.be.lessThan(50);
    e.observe(40_000, 0);
    expect(e.estimate()).to.include({ rps: 0, idle: true });
  });

  it('rejects samples that go back in time or are negative', () => {
    const e = createDemandEstimator();
    e.observe(1000, 1);
    expect(() => e.observe(1000, 1)).to.throw(/forward in time/);
    expect(() => e.observe(2000, -1)).to.throw(/rate ≥ 0/);
    expect(() => createDemandEstimator({ headroom: 0.5 })).to.throw(/headroom/);
  });
});
