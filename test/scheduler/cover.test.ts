import { expect } from 'chai';
import type { ProfileEntry } from '../../core/profiles/profile-table.ts';
import { configArea } from '../../core/profiles/profile-table.ts';
import { cheapestCover, coverMenu, type Cover } from '../../scheduler/cover.ts';
import { residualFeasible, saturatedCandidates, saturatedFeasible } from '../../scheduler/feasibility.ts';
import { createRng } from '../../scheduler/sim/rng.ts';
import { entry } from './fixtures.ts';

// SLO 100 ms with the planner's 10 % margin → 90 ms.
const SLO = 90;
const A = entry(50, 1, 8, 600, 40); // area .5, 1200 rps per device
const B = entry(40, 1, 8, 450, 40); // area .4, 1125
const C = entry(20, 1, 1, 110, 11); // area .2, 550
const D = entry(20, 0.5, 1, 40, 25); // area .1, 400
/** Misses the saturated check (2 × 50 > 90) but passes Nexus from 15 / (90 − 50) s⁻¹ = 375 rps. */
const N = entry(50, 1, 16, 800, 50);
const PLAIN = [A, B, C, D];
const WITH_NEXUS = [A, B, C, D, N];

const key = (e: ProfileEntry) => `p${e.partitionPercent}q${e.quota}b${e.batch}`;
const shape = (c: Cover) => [...c.saturated.map(key), `residual:${key(c.residual!.entry)}`];
const cover = (entries: ProfileEntry[], demand: number, maxReplicas = 100, nodeBudget = 100_000) =>
  cheapestCover(demand, coverMenu(saturatedCandidates(entries, SLO).candidates, entries, SLO)!, {
    maxReplicas,
    nodeBudget,
  });

/** Every multiset of up to `k` replicas, the last one the residual, by brute force (the reference). */
function bruteForce(entries: ProfileEntry[], demand: number, k: number): number {
  let best = Infinity;
  const sat = entries.filter((e) => saturatedFeasible(e, SLO));
  const walk = (from: number, left: number, area: number, depth: number) => {
    for (const e of entries) {
      // Close with e as the residual.
      if (e.rps >= left - 1e-9 && (saturatedFeasible(e, SLO) || residualFeasible(e, SLO, left)))
        best = Math.min(best, area + configArea(e));
    }
    if (depth === k - 1) return;
    for (let i = from; i < sat.length; i++)
      if (sat[i]!.rps < left) walk(i, left - sat[i]!.rps, area + configArea(sat[i]!), depth + 1);
  };
  walk(0, demand, 0, 0);
  return best;
}

describe('scheduler/cover (cheapest set of replicas for a demand)', () => {
  const cases: {
    name: string;
    entries: ProfileEntry[];
    demand: number;
    want: string[];
    area: number;
    classicArea: number;
  }[] = [
    // ⌊900 / 600⌋ = 1 × A + the smallest residual covering 300 (B) = 0.9; two B cover 900 for 0.8.
    {
      name: 'two B beat A + residual',
      entries: PLAIN,
      demand: 900,
      want: ['p40q1b8', 'residual:p40q1b8'],
      area: 0.8,
      classicArea: 0.9,
    },
    {
      name: 'a whole number of A',
      entries: PLAIN,
      demand: 1200,
      want: ['p50q1b8', 'residual:p50q1b8'],
      area: 1.0,
      classicArea: 1.0,
    },
    // A + C (0.7, 710 rps) ties A + 2 × D (0.7, 680 rps): fewer replicas win.
    {
      name: 'ties go to fewer replicas',
      entries: PLAIN,
      demand: 650,
      want: ['p50q1b8', 'residual:p20q1b1'],
      area: 0.7,
      classicArea: 0.7,
    },
    {
      name: 'a small demand takes the smallest replica',
      entries: PLAIN,
      demand: 30,
      want: ['residual:p20q0.5b1'],
      area: 0.1,
      classicArea: 0.1,
    },
    // N passes Nexus only at ≥ 375 rps: C + N at 790 rps left = 0.7 (the classic A + B = 0.9).
    {
      name: 'a Nexus-only residual at a high enough rate',
      entries: WITH_NEXUS,
      demand: 900,
      want: ['p20q1b1', 'residual:p50q1b16'],
      area: 0.7,
      classicArea: 0.9,
    },
    // At 300 rps left N would wait 15 / 300 s = 50 ms for its batch: 50 + 50 > 90, so not N.
    {
      name: 'not a Nexus-only residual at too low a rate',
      entries: WITH_NEXUS,
      demand: 300,
      want: ['residual:p40q1b8'],
      area: 0.4,
      classicArea: 0.4,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.demand} rps → ${c.want.join(' + ')} (area ${c.area}, classic ${c.classicArea})`, () => {
      const got = cover(c.entries, c.demand)!;
      expect(shape(got)).to.deep.equal(c.want);
      expect(got.area).to.be.closeTo(c.area, 1e-9);
      expect(got.capacityRps).to.be.at.least(c.demand - 1e-9);
      expect(got.exhaustive).to.equal(true);
      expect(got.area).to.be.at.most(c.classicArea + 1e-9);
    });
  }

  it('matches a brute-force search on seeded random demands', () => {
    const rng = createRng(7);
    for (let i = 0; i < 60; i++) {
      const demand = rng.between(1, 2400);
      for (const entries of [PLAIN, WITH_NEXUS]) {
        const got = cover(entries, demand)!;
        expect(got.area, `demand ${demand.toFixed(1)}`).to.be.closeTo(bruteForce(entries, demand, 7), 1e-9);
      }
    }
  });

  it('respects max replicas, and says when none fits', () => {
    expect(cover(PLAIN, 1300, 2)).to.equal(undefined); // 2 × 600 < 1300
    // 3 × B (1.2, 1350 rps) ties 2 × A + C (1.2, 1310 rps) on area and count: more capacity wins.
    expect(shape(cover(PLAIN, 1300, 3)!)).to.deep.equal(['p40q1b8', 'p40q1b8', 'residual:p40q1b8']);
    expect(shape(cover(WITH_NEXUS, 1300, 2)!)).to.deep.equal(['p50q1b8', 'residual:p50q1b16']); // N at 700 rps
  });

  it('a node budget stops the search with the best cover found (the classic one first), flagged', () => {
    const cut = cover(PLAIN, 900, 100, 1)!;
    expect(cut.exhaustive).to.equal(false);
    expect(shape(cut)).to.deep.equal(['p50q1b8', 'residual:p40q1b8']); // the first leaf: ⌊900 / 600⌋ × A + B
    expect(cut.area).to.be.closeTo(0.9, 1e-9);
    expect(cover(PLAIN, 900, 100, 1000)!.area).to.be.closeTo(0.8, 1e-9);
  });

  it('zero demand needs nothing; no saturated configuration gives no menu', () => {
    expect(cover(PLAIN, 0)!.saturated).to.deep.equal([]);
    expect(coverMenu([], PLAIN, SLO)).to.equal(undefined);
  });
});
