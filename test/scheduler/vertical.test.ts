/**
 * Vertical before horizontal: running replicas change quota (live, no restart) before replicas are
 * added or removed. A hand-made profile where every number can be checked by hand:
 *   A  p50 q1   b4  200 rps, batch 20 ms (the efficient configuration: 400 rps per unit of area)
 *   B  p50 q0.5 b4  100 rps, batch 40 ms (A's process at half the quota)
 *   C  p50 q1   b1  100 rps, batch 10 ms
 * SLO 100 ms, so 2·ℓ ≤ 90 ms: all three are feasible. A blocker function of another model runs
 * p60 q0.5 and time-shares a device with a p50 replica: then Σ quota of replicas that cannot run
 * together is 0.5 + 0.5 = 1, and raising the p50 replica to quota 1 would make it 1.5.
 */
import { expect } from 'chai';
import { createProfileTable, type ProfileEntry, type ProfileTable } from '../../core/profiles/profile-table.ts';
import { formatExplanation } from '../../scheduler/explain.ts';
import type { FunctionPlanState } from '../../scheduler/planner.ts';
import { oursPolicy, scheduleRound } from '../../scheduler/policies/ours.ts';
import type { FunctionDecision, PolicyDecision } from '../../scheduler/policies/policy.ts';
import { simulate } from '../../scheduler/sim/simulator.ts';
import type { Trace } from '../../scheduler/sim/traces.ts';
import type { DeviceSpec, PlacedReplica } from '../../scheduler/types.ts';
import { devices, entry, GB, spec } from './fixtures.ts';

const A = entry(50, 1, 4, 200, 20);
const B = entry(50, 0.5, 4, 100, 40);
const C = entry(50, 1, 1, 100, 10);
const BLOCKER = entry(60, 0.5, 1, 50, 20, 'n');

function table(extra: ProfileEntry[] = []): ProfileTable {
  return createProfileTable({
    entries: [A, B, C, BLOCKER, ...extra],
    footprints: { m: { weightsBytes: GB, replicaBytes: GB }, n: { weightsBytes: GB, replicaBytes: GB } },
    // Full-share batch time on p %: 10 ms at batch 1, 20 ms at batch 4 on 50 % (as the entries say).
    serviceMs: (_m, b, p) => ((10 + ((b - 1) * 10) / 3) * 50) / p,
  });
}

const fn = spec({ name: 'fn' });
const blocker = spec({ name: 'blocker', model: 'n' });

interface Round {
  decision: PolicyDecision;
  state: Map<string, FunctionPlanState>;
}

function round(
  nowMs: number,
  demand: Record<string, number>,
  prev: Round | undefined,
  vertical: boolean,
  devs: DeviceSpec[] = devices(2),
): Round {
  const functions = Object.keys(demand).map((k) => (k === 'blocker' ? blocker : fn));
  return scheduleRound(
    {
      nowMs,
      functions,
      demand: new Map(Object.entries(demand)),
      devices: devs,
      current: prev?.decision.replicas ?? [],
      profiles: table(),
    },
    prev?.state ?? new Map(),
    { planner: { vertical } },
  );
}

const fnReplicas = (r: Round): PlacedReplica[] => r.decision.replicas.filter((x) => x.function === 'fn');
const decisionOf = (r: Round): FunctionDecision => r.decision.decisions!.get('fn')!;
const cfg = (r: PlacedReplica) =>
  `${r.id}@${r.deviceId}:p${r.config.partitionPercent}q${r.config.quota}b${r.config.batch}`;

describe('scheduler/vertical (quota of running replicas before replicas)', () => {
  it('a ramp: raises the running replica to quota 1 in place, where horizontal-only re-plans the set', () => {
    for (const vertical of [true, false]) {
      const r1 = round(0, { fn: 72 }, undefined, vertical);
      expect(fnReplicas(r1).map(cfg)).to.deep.equal(['fn-1@d1:p50q0.5b4']); // B: the cheapest cover of 72 rps
      const r2 = round(5000, { fn: 180 }, r1, vertical);
      const d = decisionOf(r2);
      expect(d.plan!.action).to.equal('scale-up');
      if (vertical) {
        // Same replica, same device, same partition and batch: only the quota changed.
        expect(fnReplicas(r2).map(cfg)).to.deep.equal(['fn-1@d1:p50q1b4']);
        expect(fnReplicas(r2)[0]!.resizedFrom).to.deep.equal({ partitionPercent: 50, quota: 0.5, batch: 4 });
        expect(fnReplicas(r2)[0]!.capacityRps).to.equal(200);
        const v = d.plan!.explanation.vertical!;
        expect(v).to.include({ direction: 'up', runningRps: 100, resizedRps: 200, restRps: 0, added: 0 });
        expect(v.resized).to.deep.equal([
          {
            deviceId: 'd1',
            replicaIds: ['fn-1'],
            from: { partitionPercent: 50, quota: 0.5, batch: 4 },
            to: { partitionPercent: 50, quota: 1, batch: 4 },
            fromRps: 100,
            toRps: 200,
          },
        ]);
        expect(d.placement.map((n) => `${n.action} ${n.replicaId}`)).to.deep.equal(['resized fn-1']);
        const text = formatExplanation(d);
        expect(text).to.contain(
          'vertical first (quotas of running replicas, applied live without a restart): running 100.0 → 200.0 rps; nothing left for new replicas',
        );
        expect(text).to.contain(
          'raised fn-1 on d1: quota 0.5 → 1 (partition 50 %, largest batch 4 kept): 100.0 → 200.0 rps each',
        );
        expect(text).to.match(/resized fn-1 p50\/q1\/b4 on d1: quota 0\.5 → 1 in place/);
        // The next round carries no stale mark.
        const r3 = round(10_000, { fn: 180 }, r2, vertical);
        expect(fnReplicas(r3)[0]!.resizedFrom).to.equal(undefined);
        expect(decisionOf(r3).plan!.action).to.equal('hold');
      } else {
        // Horizontal only: the plan for 180 rps is one A replica; the scheduler starts it and stops
        // the old one (the node agent would still move it live: same partition and batch, see
        // live/vertical-groups.test.ts; a plan with another partition or batch restarts).
        expect(fnReplicas(r2).map(cfg)).to.deep.equal(['fn-2@d1:p50q1b4']);
        expect(fnReplicas(r2)[0]!.resizedFrom).to.equal(undefined);
        expect(d.placement.map((n) => `${n.action} ${n.replicaId}`).sort()).to.deep.equal([
          'started fn-2',
          'stopped fn-1',
        ]);
        expect(d.plan!.explanation.vertical).to.equal(undefined);
      }
    }
  });

  it('in the simulator a ramp costs horizontal-only a cold start and vertical none', () => {
    // With D (p40 q1 b4, 160 rps, batch 25 ms) the plan for ~140 rps is D: another process than
    // B's, so horizontal-only starts it cold; vertical raises B to quota 1 (200 rps) in place.
    const D = entry(40, 1, 4, 160, 25);
    const rates = new Float64Array(50);
    for (let s = 0; s < 50; s++) rates[s] = s < 20 ? 60 : 140;
    const trace: Trace = { name: 'ramp', functions: [fn], rates: [rates], durationS: 50 };
    const run = (vertical: boolean) =>
      simulate({
        profiles: table([D]),
        devices: devices(2),
        trace,
        policy: oursPolicy({ planner: { vertical } }),
        seed: 3,
        estimator: { headroom: 1, horizonMs: 0 },
      });
    const v = run(true);
    const h = run(false);
    expect(h.coldStarts).to.be.at.least(1);
    expect(h.resizes).to.equal(0);
    expect(v.coldStarts).to.equal(0);
    expect(v.resizes).to.be.at.least(1);
    // Same requests for both; the allocated area follows the quota (0.25 then 0.5 of a device).
    expect(v.functions[0]!.arrived).to.equal(h.functions[0]!.arrived);
    expect(v.areaMean).to.be.within(0.25, 0.5);
  });

  it('a device without room: the raise is refused (time-sharing) and a replica is added for the rest', () => {
    const r1 = round(0, { fn: 72, blocker: 40 }, undefined, true);
    // Both on d1: partitions 50 + 60 > 100, time-shared at quota 0.5 each.
    expect(r1.decision.replicas.map(cfg).sort()).to.deep.equal(['blocker-1@d1:p60q0.5b1', 'fn-1@d1:p50q0.5b4']);
    const r2 = round(5000, { fn: 180, blocker: 40 }, r1, true);
    const d = decisionOf(r2);
    expect(d.plan!.action).to.equal('scale-up');
    const v = d.plan!.explanation.vertical!;
    expect(v.resized).to.deep.equal([]);
    expect(v.blocked).to.deep.equal([{ deviceId: 'd1', replicaIds: ['fn-1'], quota: 1, why: 'time-sharing' }]);
    expect(v).to.include({ runningRps: 100, resizedRps: 100, restRps: 80, added: 1 });
    // The new replica has the efficient configuration's partition and batch at the quota that covers
    // 80 rps (B), so a later round can raise it without a restart. (d1 takes it: two p50 at quota
    // 0.5 run together and each time-shares with the blocker, Σ 0.5 + 0.5 = 1.)
    expect(
      fnReplicas(r2)
        .map((x) => `${x.id}:p${x.config.partitionPercent}q${x.config.quota}b${x.config.batch}`)
        .sort(),
    ).to.deep.equal(['fn-1:p50q0.5b4', 'fn-2:p50q0.5b4']);
    expect(d.placement.map((n) => `${n.action} ${n.replicaId}`).sort()).to.deep.equal(['kept fn-1', 'started fn-2']);
    const text = formatExplanation(d);
    expect(text).to.contain('d1 cannot take fn-1 at quota 1: time-sharing');
    expect(text).to.contain('running 100.0 → 100.0 rps; 80.0 rps left → 1 replica added');
    expect(text).to.match(/added residual \(80\.0 rps\): partition 50 %, quota 0\.5, batch 4/);
  });

  it('scale-down lowers the quota first (same process), where horizontal-only replaces the replica', () => {
    for (const vertical of [true, false]) {
      const r1 = round(0, { fn: 180 }, undefined, vertical);
      expect(fnReplicas(r1).map(cfg)).to.deep.equal(['fn-1@d1:p50q1b4']);
      // 90 < 0.85 × 200, but within the 30 s cooldown: hold.
      const early = round(10_000, { fn: 90 }, r1, vertical);
      expect(decisionOf(early).plan!.action).to.equal('hold');
      const r2 = round(40_000, { fn: 90 }, early, vertical);
      const d = decisionOf(r2);
      expect(d.plan!.action).to.equal('scale-down');
      if (vertical) {
        expect(fnReplicas(r2).map(cfg)).to.deep.equal(['fn-1@d1:p50q0.5b4']);
        expect(d.plan!.explanation.vertical).to.include({ direction: 'down', runningRps: 200, resizedRps: 100 });
        expect(d.plan!.explanation.vertical!.removed).to.deep.equal([]);
        expect(formatExplanation(d)).to.contain(
          'lowered fn-1 on d1: quota 1 → 0.5 (partition 50 %, largest batch 4 kept): 200.0 → 100.0 rps each',
        );
      } else {
        expect(fnReplicas(r2).map(cfg)).to.deep.equal(['fn-2@d1:p50q0.5b4']);
      }
    }
  });

  it('scale-down stops a replica only when it is surplus as a whole, then lowers the rest', () => {
    const r1 = round(0, { fn: 400 }, undefined, true, devices(2, 16 * GB, 1));
    expect(fnReplicas(r1).map(cfg).sort()).to.deep.equal(['fn-1@d1:p50q1b4', 'fn-2@d1:p50q1b4']);
    // 330 rps (< 0.85 × 400): no replica is surplus as a whole (400 − 200 < 330); the group of two
    // on d1 cannot lower (2 × 100 < 330): hold, and say why.
    const held = round(40_000, { fn: 330 }, r1, true);
    expect(decisionOf(held).plan!.action).to.equal('hold');
    expect(decisionOf(held).plan!.explanation.notes.join(' ')).to.match(
      /no running replica can run at a lower quota within the SLO or stop/,
    );
    // 90 rps: one replica is surplus (200 ≥ 90): it stops; the other is lowered to quota 0.5.
    const r2 = round(80_000, { fn: 90 }, held, true);
    const d = decisionOf(r2);
    expect(d.plan!.action).to.equal('scale-down');
    expect(fnReplicas(r2).map(cfg)).to.deep.equal(['fn-1@d1:p50q0.5b4']);
    expect(d.plan!.explanation.vertical!.removed).to.deep.equal(['fn-2']);
    expect(d.placement.map((n) => `${n.action} ${n.replicaId}`).sort()).to.deep.equal(['resized fn-1', 'stopped fn-2']);
  });

  it('a function that ran the safe default (no profile) re-plans its whole set once its profile exists', () => {
    const empty = createProfileTable({ entries: [], footprints: { m: { weightsBytes: GB, replicaBytes: GB } } });
    const r1 = scheduleRound(
      { nowMs: 0, functions: [fn], demand: new Map([['fn', 150]]), devices: devices(2), current: [], profiles: empty },
      new Map(),
    );
    expect(r1.decision.replicas.map(cfg)).to.deep.equal(['fn-1@d1:p100q1b1']);
    const r2 = scheduleRound(
      {
        nowMs: 5000,
        functions: [fn],
        demand: new Map([['fn', 150]]),
        devices: devices(2),
        current: r1.decision.replicas,
        profiles: table(),
      },
      r1.state,
    );
    const d = r2.decision.decisions!.get('fn')!;
    expect(d.plan!.action).to.equal('scale-up');
    expect(d.plan!.explanation.vertical).to.equal(undefined);
    expect(
      r2.decision.replicas.map((x) => `p${x.config.partitionPercent}q${x.config.quota}b${x.config.batch}`),
    ).to.deep.equal(['p50q1b4']);
  });

  it('scale-down keeps the minimum replicas of the function', () => {
    const two = spec({ name: 'fn', minReplicas: 2 });
    const at = (nowMs: number, demand: number, prev?: Round): Round =>
      scheduleRound(
        {
          nowMs,
          functions: [two],
          demand: new Map([['fn', demand]]),
          devices: devices(2, 16 * GB, 1),
          current: prev?.decision.replicas ?? [],
          profiles: table(),
        },
        prev?.state ?? new Map(),
      );
    const r1 = at(0, 400);
    expect(fnReplicas(r1)).to.have.length(2);
    const r2 = at(40_000, 90, r1);
    // One replica would cover 90 rps, but the minimum is 2: none stops; the group of two lowers to quota 0.5 (2 × 100).
    expect(fnReplicas(r2).map(cfg).sort()).to.deep.equal(['fn-1@d1:p50q0.5b4', 'fn-2@d1:p50q0.5b4']);
    expect(decisionOf(r2).plan!.explanation.vertical!.removed).to.deep.equal([]);
  });

  it('re-plans the replica set on scale-down when lower quotas would keep far more area than the plan for the demand', () => {
    const r1 = round(0, { fn: 400 }, undefined, true);
    // 250 rps: lowering cannot help (see above) and 2 × A keep area 1.0 > 1.25 × 0.75 (A + B for 250 rps).
    const r2 = round(40_000, { fn: 250 }, r1, true);
    const d = decisionOf(r2);
    expect(d.plan!.action).to.equal('scale-down');
    expect(d.plan!.explanation.vertical).to.equal(undefined);
    expect(d.plan!.explanation.notes.join(' ')).to.contain(
      'lower quotas alone would keep area 1.00 > 1.25 × 0.75 of the plan for the demand: re-planned the replica set',
    );
    expect(
      fnReplicas(r2)
        .map((x) => `p${x.config.partitionPercent}q${x.config.quota}b${x.config.batch}`)
        .sort(),
    ).to.deep.equal(['p50q0.5b4', 'p50q1b4']);
    // Off (reshapeArea ∞): the vertical step holds instead.
    const held = scheduleRound(
      {
        nowMs: 40_000,
        functions: [fn],
        demand: new Map([['fn', 250]]),
        devices: devices(2),
        current: r1.decision.replicas,
        profiles: table(),
      },
      r1.state,
      { planner: { reshapeArea: Infinity } },
    );
    expect(held.decision.decisions!.get('fn')!.plan!.action).to.equal('hold');
  });
});
