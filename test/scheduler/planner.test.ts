import { expect } from 'chai';
import { planFunction, type FunctionPlan } from '../../scheduler/planner.ts';
import { residualFeasible, saturatedCandidates } from '../../scheduler/feasibility.ts';
import { formatExplanation } from '../../scheduler/explain.ts';
import { entry, PLANNER_ENTRIES, spec } from './fixtures.ts';

const summary = (p: FunctionPlan) =>
  p.replicas.map((r) => `${r.role}:p${r.config.partitionPercent}q${r.config.quota}b${r.config.batch}`);

describe('scheduler/planner', () => {
  describe('feasibility against the SLO', () => {
    const cases: { slo: number; feasible: string[] }[] = [
      // b*(p, q) per (partition, quota); (50, 1) keeps its largest feasible batch.
      { slo: 100, feasible: ['p50q1b8', 'p20q1b1', 'p20q0.5b1', 'p100q1b1'] },
      { slo: 60, feasible: ['p50q1b4', 'p20q1b1', 'p20q0.5b1', 'p100q1b1'] },
      { slo: 30, feasible: ['p50q1b4', 'p20q1b1', 'p100q1b1'] },
      { slo: 8, feasible: [] },
    ];
    for (const c of cases) {
      it(`SLO ${c.slo} ms (2·ℓ ≤ 0.9 × SLO) → ${c.feasible.join(', ') || 'none'}, most efficient first`, () => {
        const got = saturatedCandidates(PLANNER_ENTRIES, c.slo * 0.9).candidates.map(
          (e) => `p${e.partitionPercent}q${e.quota}b${e.batch}`,
        );
        expect(got).to.deep.equal(c.feasible);
      });
    }
    it('Nexus residual check: (b − 1)/rate + ℓ(b) ≤ SLO', () => {
      const e = entry(20, 1, 8, 300, 20);
      expect(residualFeasible(e, 100, 100)).to.equal(true); // 70 + 20 = 90
      expect(residualFeasible(e, 100, 50)).to.equal(false); // 140 + 20
    });
  });

  describe('efficient + residual', () => {
    const cases: { demand: number; slo: number; want: string[]; capacity: number }[] = [
      { demand: 1300, slo: 100, want: ['saturated:p50q1b8', 'saturated:p50q1b8', 'residual:p20q1b1'], capacity: 1310 },
      {
        demand: 1230,
        slo: 100,
        want: ['saturated:p50q1b8', 'saturated:p50q1b8', 'residual:p20q0.5b1'],
        capacity: 1240,
      },
      { demand: 1200, slo: 100, want: ['saturated:p50q1b8', 'saturated:p50q1b8'], capacity: 1200 },
      { demand: 900, slo: 60, want: ['saturated:p50q1b4', 'saturated:p50q1b4', 'residual:p20q1b1'], capacity: 910 },
    ];
    for (const c of cases) {
      it(`${c.demand} rps at SLO ${c.slo} → ${c.want.join(' + ')}`, () => {
        const p = planFunction({
          spec: spec({ sloMs: c.slo }),
          demandRps: c.demand,
          entries: PLANNER_ENTRIES,
          nowMs: 0,
        });
        expect(summary(p)).to.deep.equal(c.want);
        expect(p.capacityRps).to.be.closeTo(c.capacity, 1e-9);
        expect(p.action).to.equal('initial');
        expect(p.explanation.efficient).to.include({ partitionPercent: 50, replicas: 2 });
        expect(p.explanation.alternatives.length).to.be.greaterThan(0);
        expect(p.explanation.alternatives.every((a) => a.rejected.length > 0)).to.equal(true);
      });
    }
    it('no feasible configuration → the fastest one, ⌈demand / rps⌉ replicas, flagged', () => {
      const p = planFunction({ spec: spec({ sloMs: 8 }), demandRps: 400, entries: PLANNER_ENTRIES, nowMs: 0 });
      expect(p.sloUnachievable).to.equal(true);
      expect(summary(p)).to.deep.equal(['saturated:p100q1b1', 'saturated:p100q1b1', 'saturated:p100q1b1']);
    });
    it('carries a latency budget: slack = SLO − fill − full-share batch time', () => {
      const p = planFunction({ spec: spec({ sloMs: 100 }), demandRps: 1200, entries: PLANNER_ENTRIES, nowMs: 0 });
      // E3: b 8 at 600 rps → fill 7/600 s = 11.67 ms, service 40 ms.
      expect(p.replicas[0]!.latency!.slackMs).to.be.closeTo(100 - 11.6667 - 40, 1e-3);
      expect(p.replicas[0]!.latency!.holdMs).to.equal(20);
    });
  });

  describe('cheapest cover of the remainder (cover.ts) and residual latency', () => {
    // X: area .5, 1200 rps per device (the efficient one); Y: area .4, 1125; Z: area .2, 1000; W: area .1, 1100.
    const X = entry(50, 1, 8, 600, 40);
    const Y = entry(40, 1, 8, 450, 40);
    const Z = entry(20, 1, 4, 200, 20);
    const W = entry(10, 1, 2, 110, 18);
    it('covers what the efficient replicas leave with the least area, several replicas if need be', () => {
      // ⌊810 / 600⌋ = 1 × X; 210 rps left: the smallest single replica covering it is Y (0.4), two W take 0.2.
      const p = planFunction({ spec: spec(), demandRps: 810, entries: [X, Y, Z, W], nowMs: 0 });
      expect(summary(p)).to.deep.equal(['saturated:p50q1b8', 'saturated:p10q1b2', 'residual:p10q1b2']);
      expect(p.capacityRps).to.equal(820);
      expect(p.explanation.efficient).to.include({ partitionPercent: 50, replicas: 1 });
      expect(p.explanation.mix).to.have.length(1);
      expect(p.explanation.mix![0]).to.include({ partitionPercent: 10, replicas: 1 });
      expect(p.explanation.residual).to.include({ partitionPercent: 10, residualRps: 100 });
      const text = formatExplanation({ function: 'fn', plan: p, placement: [] });
      expect(text).to.contain('also saturated: 1 × partition 10 %, quota 1, batch 2: 110.0 rps');
    });
    it('with coverTail 1 the cover may trade an efficient replica too', () => {
      // 900: X + Y (0.9) as the efficient block allows; trading X: two Y cover 900 for 0.8.
      expect(summary(planFunction({ spec: spec(), demandRps: 900, entries: [X, Y, Z], nowMs: 0 }))).to.deep.equal([
        'saturated:p50q1b8',
        'residual:p40q1b8',
      ]);
      expect(
        summary(
          planFunction({ spec: spec(), demandRps: 900, entries: [X, Y, Z], nowMs: 0, options: { coverTail: 1 } }),
        ),
      ).to.deep.equal(['saturated:p40q1b8', 'saturated:p40q1b8']);
    });
    it('a residual that is feasible saturated keeps the saturated fill time at a low rate', () => {
      // X + Z at 100 rps left: Z batches what is queued, so a request waits at most as long as at
      // capacity: fill 3 / 200 s = 15 ms (not 3 / 100 s = 30 ms); slack = 100 − 15 − 20 = 65 ms.
      const p = planFunction({ spec: spec(), demandRps: 700, entries: [X, Y, Z], nowMs: 0 });
      expect(summary(p)).to.deep.equal(['saturated:p50q1b8', 'residual:p20q1b4']);
      expect(p.explanation.residual!.residualRps).to.be.closeTo(100, 1e-9);
      expect(p.replicas[1]!.latency!.slackMs).to.be.closeTo(65, 1e-9);
    });
    it('a Nexus-only residual waits for its batch at the rate left to it', () => {
      // N misses the saturated check (2 × 50 > 90) but passes Nexus at ≥ 15 / 40 ms = 375 rps:
      // 1000 = X + N at 400 rps (0.9; X + X would be 1.0): fill 15 / 400 s = 37.5 ms, service 50 ms.
      const N = entry(40, 1, 16, 800, 50);
      const p = planFunction({ spec: spec(), demandRps: 1000, entries: [X, N, Z], nowMs: 0 });
      expect(summary(p)).to.deep.equal(['saturated:p50q1b8', 'residual:p40q1b16']);
      expect(p.replicas[1]!.latency!.slackMs).to.be.closeTo(100 - 37.5 - 50, 1e-9);
    });
  });

  describe('bounds', () => {
    it('caps at max (residual dropped first) and says so', () => {
      const p = planFunction({ spec: spec({ maxReplicas: 2 }), demandRps: 1300, entries: PLANNER_ENTRIES, nowMs: 0 });
      expect(summary(p)).to.deep.equal(['saturated:p50q1b8', 'saturated:p50q1b8']);
      expect(p.capped).to.equal(true);
      expect(p.explanation.notes.join(' ')).to.match(/capped at max 2/);
    });
    it('raises to min with the smallest feasible configuration when idle', () => {
      const p = planFunction({ spec: spec({ minReplicas: 3 }), demandRps: 0, entries: PLANNER_ENTRIES, nowMs: 0 });
      expect(summary(p)).to.deep.equal(['minimum:p20q0.5b1', 'minimum:p20q0.5b1', 'minimum:p20q0.5b1']);
    });
    it('rejects bad bounds, SLO and demand', () => {
      expect(() =>
        planFunction({
          spec: spec({ minReplicas: 3, maxReplicas: 2 }),
          demandRps: 1,
          entries: PLANNER_ENTRIES,
          nowMs: 0,
        }),
      ).to.throw(/0 ≤ min ≤ max/);
      expect(() =>
        planFunction({ spec: spec({ sloMs: 0 }), demandRps: 1, entries: PLANNER_ENTRIES, nowMs: 0 }),
      ).to.throw(/SLO/);
      expect(() => planFunction({ spec: spec(), demandRps: -1, entries: PLANNER_ENTRIES, nowMs: 0 })).to.throw(/≥ 0/);
    });
  });

  describe('hysteresis, cooldowns and idle (injected time)', () => {
    const start = () => planFunction({ spec: spec(), demandRps: 1300, entries: PLANNER_ENTRIES, nowMs: 0 });
    const at = (prev: FunctionPlan, nowMs: number, demandRps: number, options = {}) =>
      planFunction({ spec: spec(), demandRps, entries: PLANNER_ENTRIES, prev: prev.state, nowMs, options });

    it('holds inside the hysteresis band', () => {
      const p = at(start(), 60_000, 1200); // 1200 > 0.85 × 1310
      expect(p.action).to.equal('hold');
      expect(p.capacityRps).to.be.closeTo(1310, 1e-9);
    });
    it('waits for the scale-down cooldown, then scales down', () => {
      const s0 = start();
      const early = at(s0, 10_000, 1000);
      expect(early.action).to.equal('hold');
      expect(early.explanation.notes.join(' ')).to.match(/cooldown \(20 s left\)/);
      const later = at(early, 40_000, 1000);
      expect(later.action).to.equal('scale-down');
      expect(summary(later)).to.deep.equal(['saturated:p50q1b8', 'residual:p50q1b8']);
      expect(later.state.lastDownMs).to.equal(40_000);
    });
    it('scales up at once, or after the scale-up cooldown when one is set', () => {
      const s0 = start();
      expect(at(s0, 1000, 1400).action).to.equal('scale-up');
      const held = at(s0, 1000, 1400, { cooldownUpMs: 5000 });
      expect(held.action).to.equal('hold');
      expect(at(held, 6000, 1400, { cooldownUpMs: 5000 }).action).to.equal('scale-up');
    });
    it('does not flap: alternating small changes keep the plan', () => {
      let p = start();
      const actions: string[] = [];
      for (let i = 1; i <= 10; i++) {
        p = at(p, i * 5000, i % 2 ? 1150 : 1290);
        actions.push(p.action);
      }
      expect(new Set(actions)).to.deep.equal(new Set(['hold']));
    });
    it('goes back to the minimum when idle, after the cooldown', () => {
      const s0 = start();
      expect(at(s0, 10_000, 0).action).to.equal('hold');
      const idle = at(s0, 31_000, 0);
      expect(idle.action).to.equal('idle');
      expect(idle.replicas).to.deep.equal([]);
    });
  });

  it('a function without a profile gets the safe default and a profiling flag', () => {
    const p = planFunction({ spec: spec(), demandRps: 50, entries: [], nowMs: 0 });
    expect(p.needsProfiling).to.equal(true);
    expect(summary(p)).to.deep.equal(['default:p100q1b1']);
    expect(p.explanation.notes[0]).to.match(/no profile .* queue a profiling job/);
    expect(planFunction({ spec: spec(), demandRps: 0, entries: [], nowMs: 0 }).replicas).to.deep.equal([]);
  });
});
