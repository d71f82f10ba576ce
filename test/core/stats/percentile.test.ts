/** core/stats/percentile.ts: nearest rank. */
import { expect } from 'chai';
import { percentile } from '../../../core/stats/percentile.ts';

describe('core/stats/percentile', () => {
  const xs = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
  it('takes the smallest value with at least p % at or below it', () => {
    expect([0, 1, 10, 11, 50, 51, 90, 99, 100].map((p) => percentile(xs, p))).to.deep.equal([10, 10, 10, 20, 50, 60, 90, 100, 100]);
    expect(percentile([7], 99)).to.equal(7);
  });
  it('is NaN for no values', () => expect(percentile([], 50)).to.be.NaN);
});
