/** The live loop's pure part: reading stored functions, node devices, and one round's targets. */
import { expect } from 'chai';
import { createProfileTable, type ProfileEntry } from '../../../core/profiles/profile-table.ts';
import { configAnnotations, readLiveFunction } from '../../../scheduler/live/live-function.ts';
import { nodeDevices, runLiveRound } from '../../../scheduler/live/round.ts';
import type { FunctionPlanState } from '../../../scheduler/planner.ts';

const row = (partitionPercent: number, rps: number): ProfileEntry => ({ model: 'm', deviceClass: 'cpu', partitionPercent, quota: 1, batch: 1, rps, latencyMs: { p50: 5, p95: 5, p99: 5 }, memoryBytes: 1, source: 'measured' });
const table = createProfileTable({ entries: [row(25, 10), row(100, 30)], footprints: { m: { weightsBytes: 0, replicaBytes: 1024 } } });
const fn = (annotations: Record<string, string>, labels: Record<string, string> = {}) => readLiveFunction({ name: 'f', namespace: 'ns', annotations, labels, replicas: 1 });

describe('scheduler/live', () => {
  it('reads SLO, model, device class, bounds and the current configuration; unmanaged without an SLO', () => {
    expect(fn({})).to.equal(undefined);
    const f = fn({ 'fastgshare/slo_ms': '150', 'fastgshare/device': 'emulated', 'fastgshare/emulated_profile': 'v100-bert', 'fastgshare/gpu_sm_partition': '50', 'fastgshare/gpu_quota_request': '0.4', 'fastgshare/max_batch': '8' }, { 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '5' })!;
    expect(f.spec).to.deep.equal({ name: 'f.ns', model: 'v100-bert', deviceClass: 'v100', sloMs: 150, minReplicas: 2, maxReplicas: 5 });
    expect(f.config).to.deep.equal({ partitionPercent: 50, quota: 0.4, batch: 8 });
    expect(() => fn({ 'fastgshare/slo_ms': 'soon' })).to.throw(/fastgshare\/slo_ms must be a number above 0/);
    expect(() => fn({ 'fastgshare/slo_ms': '10', 'fastgshare/device': 'tpu' })).to.throw(/not a device/);
  });

  it('raises a quota limit below the new quota request', () => {
    expect(configAnnotations({ partitionPercent: 50, quota: 1, batch: 4 }, { 'fastgshare/gpu_quota_limit': '0.8', other: 'x' })).to.deep.equal({ other: 'x', 'fastgshare/gpu_sm_partition': '50', 'fastgshare/gpu_quota_request': '1', 'fastgshare/max_batch': '4', 'fastgshare/gpu_quota_limit': '1' });
  });

  it('gives every node devicesPerNode devices of each class used', () => {
    const d = nodeDevices([{ id: 'http://b', memoryBytes: 8 }, { id: 'http://a', memoryBytes: 4 }], ['cpu', 'v100', 'cpu'], 2);
    expect(d.map((x) => x.id)).to.deep.equal(['http://a#cpu0', 'http://a#cpu1', 'http://a#v1000', 'http://a#v1001', 'http://b#cpu0', 'http://b#cpu1', 'http://b#v1000', 'http://b#v1001']);
  });

  it('plans replicas of the most efficient configuration per demand, places them per node, and goes back to the minimum when idle', () => {
    const f = fn({ 'fastgshare/slo_ms': '200', 'fastgshare/model': 'm' }, { 'com.openfaas.scale.max': '6' })!;
    const nodes = [{ id: 'http://n1', memoryBytes: 1 << 30 }, { id: 'http://n2', memoryBytes: 1 << 30 }];
    let state: Map<string, FunctionPlanState> = new Map();
    const step = (nowMs: number, demand: number, current: ReturnType<typeof runLiveRound>['decision']['replicas'] = []) => {
      const r = runLiveRound({ nowMs, functions: [f], demand: new Map([['f.ns', demand]]), nodes, devicesPerNode: 1, current, profiles: table }, state, { planner: { cooldownDownMs: 1000 } });
      state = r.state;
      return r;
    };
    const up = step(0, 45);
    const t = up.targets[0]!;
    // efficiency: 25 % → 40 rps per device, 100 % → 30: four saturated 25 % replicas + one residual of 25 %
    expect(t.replicas).to.equal(5);
    expect(t.config).to.deep.equal({ partitionPercent: 25, quota: 1, batch: 1 });
    expect(t.capacityRps).to.equal(10);
    expect([...t.perNode!.values()].reduce((a, b) => a + b, 0)).to.equal(5);
    expect(t.perNode!.get('http://n1')).to.equal(4); // best fit: fill one device before opening another
    const hold = step(500, 0, up.decision.replicas);
    expect(hold.targets[0]!.replicas).to.equal(5); // cooldown
    const idle = step(1500, 0, hold.decision.replicas);
    expect(idle.targets[0]!.decision.plan!.action).to.equal('idle');
    expect(idle.targets[0]!.replicas).to.equal(1);
  });
});
