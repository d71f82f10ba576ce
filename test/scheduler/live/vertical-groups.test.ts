/**
 * Vertical scaling in the live loop: a quota-only resize keeps the replica count and its device and
 * changes only its group's quota request, so the node agent's group has the same process
 * fingerprint (fast-manager/apply): the replica moves to the new group and its quota is applied
 * live, without a restart. A partition change (horizontal re-plan) changes the fingerprint.
 */
import { expect } from 'chai';
import type { FunctionSpec } from '../../../core/contracts/node-agent.ts';
import { createProfileTable, type ProfileEntry } from '../../../core/profiles/profile-table.ts';
import { validateGroups } from '../../../fast-manager/apply/groups.ts';
import { readLiveFunction } from '../../../scheduler/live/live-function.ts';
import { groupOverrides, runLiveRound, type LiveRoundResult } from '../../../scheduler/live/round.ts';

const row = (partitionPercent: number, quota: number, batch: number, rps: number, latency: number): ProfileEntry => ({
  model: 'm',
  deviceClass: 'v100',
  partitionPercent,
  quota,
  batch,
  rps,
  latencyMs: { p50: latency, p95: latency, p99: latency },
  memoryBytes: 1024,
  serviceMs: latency * quota,
  source: 'measured',
});
const ROWS = [row(50, 1, 4, 200, 20), row(50, 0.5, 4, 100, 40), row(50, 1, 1, 100, 10)];
const footprints = { m: { weightsBytes: 0, replicaBytes: 1024 } };
const table = createProfileTable({ entries: ROWS, footprints });
/** Adds p40 q1 b4 (160 rps): the plan for 150 rps alone. */
const withD = createProfileTable({ entries: [...ROWS, row(40, 1, 4, 160, 25)], footprints });
const annotations = { 'fastgshare/slo_ms': '100', 'fastgshare/device': 'emulated', 'fastgshare/emulated_profile': 'm' };
const f = readLiveFunction({ name: 'f', namespace: 'ns', annotations, replicas: 1 })!;
const nodes = [{ id: 'http://n1', memoryBytes: 1 << 30, devices: { emulated: 1 } }];
const agentSpec: FunctionSpec = {
  name: 'f',
  namespace: 'ns',
  image: 'img',
  envVars: {},
  labels: {},
  annotations,
  secrets: {},
  readOnlyRootFilesystem: false,
};

function round(nowMs: number, demand: number, prev?: LiveRoundResult, planner = {}, profiles = table): LiveRoundResult {
  return runLiveRound(
    {
      nowMs,
      functions: [f],
      demand: new Map([['f.ns', demand]]),
      nodes,
      devicesPerNode: 1,
      current: prev?.decision.replicas ?? [],
      profiles,
    },
    prev?.state ?? new Map(),
    { planner },
  );
}

const groupOf = (r: LiveRoundResult) => {
  const gs = r.targets[0]!.groups!.get('http://n1')!;
  expect(gs).to.have.length(1);
  return gs[0]!;
};
const agentGroup = (r: LiveRoundResult) =>
  validateGroups(agentSpec, 1, [{ replicas: 1, annotations: groupOverrides(groupOf(r), annotations) }])[0]!;

describe('scheduler/live: vertical resize as replica groups', () => {
  it('a raise keeps one replica on its device; only the quota request of its group changes (same process fingerprint)', () => {
    const r1 = round(0, 72);
    expect(groupOf(r1)).to.deep.equal({
      config: { partitionPercent: 50, quota: 0.5, batch: 4 },
      capacityRps: 100,
      replicas: 1,
      device: { kind: 'emulated', index: 0 },
    });
    const r2 = round(5000, 180, r1);
    expect(r2.targets[0]!.replicas).to.equal(1);
    expect(groupOf(r2)).to.deep.equal({
      config: { partitionPercent: 50, quota: 1, batch: 4 },
      capacityRps: 200,
      replicas: 1,
      device: { kind: 'emulated', index: 0 },
    });
    expect(r2.targets[0]!.decision.placement.map((n) => n.action)).to.deep.equal(['resized']);
    const [a, b] = [agentGroup(r1), agentGroup(r2)];
    expect(a.key).to.not.equal(b.key); // a new group …
    expect(a.fingerprint).to.equal(b.fingerprint); // … of the same process: the agent moves the replica, no restart
    expect(b.overrides['fastgshare/gpu_quota_request']).to.equal('1');
  });

  it('horizontal-only re-plans to another process (partition 40 %): its group has another fingerprint, so the agent restarts it', () => {
    const r1 = round(0, 72, undefined, { vertical: false }, withD);
    const r2 = round(5000, 150, r1, { vertical: false }, withD);
    expect(groupOf(r2).config).to.deep.equal({ partitionPercent: 40, quota: 1, batch: 4 });
    expect(r2.targets[0]!.decision.placement.map((n) => n.action).sort()).to.deep.equal(['started', 'stopped']);
    expect(agentGroup(r1).fingerprint).to.not.equal(agentGroup(r2).fingerprint);
    // Vertical on the same table and demand: quota 1 at partition 50 (200 rps), same process.
    const v2 = round(5000, 150, round(0, 72, undefined, {}, withD), {}, withD);
    expect(groupOf(v2).config).to.deep.equal({ partitionPercent: 50, quota: 1, batch: 4 });
    expect(agentGroup(v2).fingerprint).to.equal(agentGroup(r1).fingerprint);
  });
});
