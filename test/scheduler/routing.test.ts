import { expect } from 'chai';
import { pickReplica, routingWeights } from '../../scheduler/routing.ts';

describe('scheduler/routing', () => {
  it('weights are proportional to profiled capacity', () => {
    const w = routingWeights([
      { id: 'a', capacityRps: 300 },
      { id: 'b', capacityRps: 100 },
      { id: 'c', capacityRps: 0 },
    ]);
    expect([...w]).to.deep.equal([
      ['a', 0.75],
      ['b', 0.25],
      ['c', 0],
    ]);
    expect([
      ...routingWeights([
        { id: 'x', capacityRps: 0 },
        { id: 'y', capacityRps: 0 },
      ]),
    ]).to.deep.equal([
      ['x', 0.5],
      ['y', 0.5],
    ]);
  });

  it('weighted least-outstanding spreads in proportion to the weights', () => {
    const reps = [
      { id: 'big', weight: 0.75, outstanding: 0 },
      { id: 'small', weight: 0.25, outstanding: 0 },
    ];
    const count = { big: 0, small: 0 };
    for (let i = 0; i < 400; i++) {
      const id = pickReplica(reps) as 'big' | 'small';
      count[id]++;
      reps.find((r) => r.id === id)!.outstanding++;
    }
    expect(count).to.deep.equal({ big: 300, small: 100 });
  });

  it('prefers the replica with fewer outstanding requests per unit of weight; skips zero weights', () => {
    expect(
      pickReplica([
        { id: 'a', weight: 0.75, outstanding: 3 },
        { id: 'b', weight: 0.25, outstanding: 0 },
      ]),
    ).to.equal('b'); // 5.33 vs 4
    expect(
      pickReplica([
        { id: 'a', weight: 0.75, outstanding: 1 },
        { id: 'b', weight: 0.25, outstanding: 0 },
      ]),
    ).to.equal('a'); // 2.67 vs 4
    expect(pickReplica([{ id: 'a', weight: 0, outstanding: 0 }])).to.equal(undefined);
  });
});
