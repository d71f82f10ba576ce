import { expect } from 'chai';
import { createProfileTable } from '../../core/profiles/profile-table.ts';
import { exclusivePolicy } from '../../scheduler/policies/exclusive.ts';
import { fastgsharePublishedPolicy } from '../../scheduler/policies/fastgshare-published.ts';
import { fixedPartitionsPolicy } from '../../scheduler/policies/fixed-partitions.ts';
import { gpuletPolicy, kneePartition } from '../../scheduler/policies/gpulet.ts';
import { nexusPolicy } from '../../scheduler/policies/nexus.ts';
import { getPolicies, policyNames } from '../../scheduler/policies/registry.ts';
import type { PolicyFactory } from '../../scheduler/policies/policy.ts';
import { timeSharingPolicy } from '../../scheduler/policies/time-sharing.ts';
import type { ProfileTable } from '../../core/profiles/profile-table.ts';
import { devices, entry, GB, linearTable, spec } from './fixtures.ts';

// linearTable: ℓ(b, p) = (5 + 5b) × 100/p ms; SLO 60 → at 100 %: b* = 4 (25 ms), sat = 160 rps.
function run(
  policy: PolicyFactory,
  rates: Record<string, number>,
  profiles: ProfileTable = linearTable(),
  sloMs = 60,
  n = 8,
) {
  const functions = Object.keys(rates).map((name) => spec({ name, model: 'm', sloMs }));
  const d = policy.create().decide({
    nowMs: 0,
    functions,
    demand: new Map(Object.entries(rates)),
    devices: devices(n),
    current: [],
    profiles,
  });
  const used = new Set(d.replicas.map((r) => r.deviceId)).size;
  const configs = d.replicas.map(
    (r) => `${r.function}:p${r.config.partitionPercent}q${r.config.quota}b${r.config.batch}`,
  );
  return { d, used, configs };
}

describe('scheduler/policies (hand-checked)', () => {
  it('registry lists every policy once, ours first, and rejects unknown names', () => {
    expect(policyNames()).to.deep.equal([
      'ours',
      'ours-horizontal',
      'exclusive',
      'time-sharing',
      'fixed-2x50',
      'fixed-4x25',
      'fastgshare-published',
      'nexus',
      'gpulet',
    ]);
    expect(getPolicies(['nexus']).map((p) => p.name)).to.deep.equal(['nexus']);
    expect(() => getPolicies(['best'])).to.throw(/unknown policy "best"; choose from ours/);
  });

  it('exclusive: ⌈400 / 160⌉ = 3 whole devices at b* = 4', () => {
    const r = run(exclusivePolicy, { a: 400 });
    expect(r.used).to.equal(3);
    expect(r.configs).to.deep.equal(['a:p100q1b4', 'a:p100q1b4', 'a:p100q1b4']);
    expect(r.d.replicas[0]!.capacityRps).to.equal(160);
  });

  it('time sharing: quota = rate × ℓ(b*) / b*, best fit on Σ quota ≤ 1', () => {
    const big = run(timeSharingPolicy, { a: 400 }); // 3 replicas × (133.3 × 25 / 4 / 1000 = 0.833)
    expect(big.configs).to.deep.equal(['a:p100q0.833b4', 'a:p100q0.833b4', 'a:p100q0.833b4']);
    expect(big.used).to.equal(3);
    expect(run(timeSharingPolicy, { a: 100, b: 100 }).used).to.equal(2); // 0.625 each
    const small = run(timeSharingPolicy, { a: 50, b: 50 }); // 0.3125 each → one device
    expect(small.used).to.equal(1);
    expect(small.configs).to.deep.equal(['a:p100q0.313b4', 'b:p100q0.313b4']);
  });

  it('fixed partitions: 2 × 50 % (b* = 2, 66.7 rps) and 4 × 25 % (no b* meets the SLO: b = 1, 25 rps)', () => {
    const two = run(fixedPartitionsPolicy(2), { a: 100 });
    expect(two.configs).to.deep.equal(['a:p50q1b2', 'a:p50q1b2']);
    expect(two.used).to.equal(1);
    const four = run(fixedPartitionsPolicy(4), { a: 100 });
    expect(four.configs).to.deep.equal(['a:p25q1b1', 'a:p25q1b1', 'a:p25q1b1', 'a:p25q1b1']);
    expect(four.used).to.equal(1);
    expect(run(fixedPartitionsPolicy(4), { a: 101 }).used).to.equal(2);
  });

  it('nexus: 2 saturated devices, then residuals 80 and 40 rps merged at duty 25 ms', () => {
    const r = run(nexusPolicy, { a: 400, b: 40 });
    expect(r.used).to.equal(3);
    // a: residual 80 rps, b = 2 (12.5 + 15 ≤ 60), duty 25 ms; b: 40 rps, b = 2, duty 50 ms.
    // Merged: D = 25 ms, batches ⌈2⌉ = 2 and ⌈1⌉ = 1, busy 15 + 10 = 25 ≤ 25; quotas 0.6 and 0.4.
    expect(r.configs).to.deep.equal(['a:p100q1b4', 'a:p100q1b4', 'a:p100q0.6b2', 'b:p100q0.4b1']);
    const resid = r.d.replicas.filter((x) => x.config.quota < 1);
    expect(new Set(resid.map((x) => x.deviceId)).size).to.equal(1);
    expect(resid.map((x) => x.capacityRps)).to.deep.equal([80, 40]);
  });

  it('gpulet: knee partition, saturated gpu-lets, residual gpu-let, two per device', () => {
    const t = linearTable();
    // sat(p) at SLO 60: 20 % → 20, 40 % → 40, 50 % → 66.7, 60 % → 80, 80 % → 106.7, 100 % → 160 rps;
    // steepest gain per % (≥ 5 %): 40→50 and 80→100 (2.67 rps/%); the first wins: knee 50.
    expect(kneePartition(t, spec({ sloMs: 60 }))).to.equal(50);
    const r = run(gpuletPolicy, { a: 150 });
    // ⌊150 / 66.7⌋ = 2 at 50 %, rest 16.7 → the smallest size covering it: 20 % (20 rps).
    expect(r.configs).to.deep.equal(['a:p50q1b2', 'a:p50q1b2', 'a:p20q1b1']);
    expect(r.used).to.equal(2);
  });

  it('FaST-GShare as published: most efficient batch-1 config (no SLO check) + residual, MaxRects', () => {
    // rps = q × 1000 / ℓ(1, p) with ℓ(1, p) = 10 × √(100 / p): 25 % → 50 rps at q 1 (eff 200), best.
    const ent = [25, 50, 100].flatMap((p) =>
      [1, 0.5].map((q) => entry(p, q, 1, (q * 1000) / (10 * Math.sqrt(100 / p)), (10 * Math.sqrt(100 / p)) / q)),
    );
    const profiles = createProfileTable({
      entries: ent.map((e) => ({ ...e, deviceClass: 'gpu' })),
      footprints: { m: { weightsBytes: 1 * GB, replicaBytes: 2 * GB } },
    });
    const r = run(fastgsharePublishedPolicy, { a: 120 }, profiles, 1); // an SLO of 1 ms is ignored
    expect(r.configs).to.deep.equal(['a:p25q1b1', 'a:p25q1b1', 'a:p25q0.5b1']);
    expect(r.used).to.equal(1);
  });
});
