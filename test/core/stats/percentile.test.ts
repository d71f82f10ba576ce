/** core/stats/percentile.ts: nearest rank. */
import { expect } from 'chai';
import { median, percentile } from '../../../core/stats/percentile.ts';

describe('core/stats/percentile', () => {
  const xs = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
  it('takes the smallest value with at least p % at or below it', () => {
    expect([0, 1, 10, 11, 50, 51, 90, 99, 100].map((p) => percentile(xs, p))).to.deep.equal([
      10, 10, 10, 20, 50, 60, 90, 100, 100,
    ]);
    expect(percentile([7], 99)).to.equal(7);
  });
  it('is NaN for no values', () => expect(percentile([], 50)).to.be.NaN);
});

describe('core/stats/median', () => {
  it('takes the middle of unsorted values, the mean of the two middle ones for an even count, NaN for none', () => {
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    expect(median([7])).to.equal(7);
    expect(median([])).to.be.NaN;
    const xs = [5, 1, 4];
    median(xs);
    expect(xs, 'the input is not reordered').to.deep.equal([5, 1, 4]);
  });
});
