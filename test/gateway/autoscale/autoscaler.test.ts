/**
 * The auto-scaler loop with a manual clock and an in-memory control plane: counts, replica groups, capacities, metrics,
 * explain.
 */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../core/clock.ts';
import { CaptureSink, createLogger } from '../../../core/logger.ts';
import { createProfileTable, type ProfileEntry } from '../../../core/profiles/profile-table.ts';
import { createAutoscaler } from '../../../gateway/autoscale/autoscaler.ts';
import { createRateMeter } from '../../../gateway/autoscale/rate-meter.ts';
import { createCapacityBook } from '../../../gateway/autoscale/replica-capacities.ts';
import { createPlannedPlacement } from '../../../gateway/autoscale/planned-placement.ts';
import { evenSpreadPlacement } from '../../../gateway/control/placement.ts';
import { staticProfileSource } from '../../../scheduler/live/profile-source.ts';
import { replicaGroupKey, type ReplicaStatus } from '../../../core/contracts/node-agent.ts';
import type { StoredFunctionView } from '../../../scheduler/live/live-function.ts';

const row = (partitionPercent: number, rps: number): ProfileEntry => ({
  model: 'm',
  deviceClass: 'cpu',
  partitionPercent,
  quota: 1,
  batch: 1,
  rps,
  latencyMs: { p50: 5, p95: 5, p99: 5 },
  memoryBytes: 1,
  source: 'measured',
});

describe('auto-scaler loop', () => {
  it('applies the count and the configuration as replica groups, records metrics and the explanation, and returns to the minimum', async () => {
    const clock = new ClockWithDate();
    const sink = new CaptureSink();
    const registry = new Registry();
    const fn: StoredFunctionView = {
      name: 'f',
      namespace: 'ns',
      labels: { 'com.openfaas.scale.max': '8' },
      annotations: { 'fastgshare/slo_ms': '100', 'fastgshare/model': 'm', 'fastgshare/gpu_sm_partition': '100' },
      replicas: 1,
    };
    const calls: string[] = [];
    const meter = createRateMeter(clock.now());
    const capacities = createCapacityBook();
    const placement = createPlannedPlacement(evenSpreadPlacement);
    const a = createAutoscaler({
      clock,
      log: createLogger({ sink, level: 'debug' }),
      registry,
      listFunctions: async () => [structuredClone(fn)],
      meter,
      profiles: staticProfileSource(
        createProfileTable({
          entries: [row(25, 10), row(100, 30)],
          footprints: { m: { weightsBytes: 0, replicaBytes: 1 } },
        }),
      ),
      inventory: { nodes: async () => [{ id: 'http://n1', memoryBytes: 1 << 30 }] },
      target: {
        async scale(name, namespace, replicas) {
          calls.push(`scale ${name}.${namespace} ${replicas}`);
          fn.replicas = replicas;
          return replicas;
        },
        rollout() {
          calls.push('rollout');
        },
      },
      placement,
      capacities,
      options: {
        periodMs: 1000,
        devicesPerNode: 2,
        applyConfig: true,
        planner: { cooldownDownMs: 2000 },
        estimator: { idleAfterMs: 1000, peakWindowMs: 1000, headroom: 1 },
      },
    });
    // 25 calls in one second → 25 rps → 3 replicas of 25 % (10 rps each, the most efficient)
    for (let i = 0; i < 25; i++)
      meter.started!({ function: 'f.ns', name: 'f', namespace: 'ns', callId: String(i), method: 'POST', startedAt: 0 });
    clock.advance(1000);
    await a.runOnce();
    expect(calls).to.deep.equal(['scale f.ns 3']);
    expect(fn.annotations!['fastgshare/gpu_sm_partition']).to.equal('100'); // the owner's annotations stay
    const n1 = { url: 'http://n1' } as never;
    expect([...placement.place({ name: 'f', namespace: 'ns', replicas: 3 }, [n1]).values()]).to.deep.equal([3]);
    const p25 = {
      'fastgshare/gpu_sm_partition': '25',
      'fastgshare/gpu_quota_request': '1',
      'fastgshare/max_batch': '1',
    };
    expect(placement.groups!({ name: 'f', namespace: 'ns', replicas: 3 }, n1, 3)).to.deep.equal([
      { replicas: 3, annotations: p25 },
    ]);
    // not the planned count
    expect(placement.groups!({ name: 'f', namespace: 'ns', replicas: 2 }, n1, 2)).to.equal(undefined);
    expect(capacities.of('f.ns', replica('r', p25))).to.equal(10);
    expect(capacities.of('f.ns', replica('r'))).to.equal(30); // no group: the function's own configuration (100 %)
    const rec = a.explain('f.ns')!;
    expect(rec.replicas).to.equal(3);
    expect(rec.measuredRps).to.equal(25);
    expect(rec.decision.plan!.action).to.equal('initial');
    const m = await registry.metrics();
    expect(m).to.contain('gateway_autoscaler_desired_replicas{function_name="f.ns"} 3');
    expect(m).to.contain('gateway_autoscaler_demand_rps{function_name="f.ns"} 25');
    expect(m).to.contain('gateway_autoscaler_decisions_total{function_name="f.ns",action="initial"} 1');
    const logged = sink.records.find((r) => r.message === 'autoscaler decision')!;
    expect(logged.level).to.equal('info');
    expect(logged.fields).to.include({ function: 'f.ns', replicas: 3, config: 'p25-q1-b1', demandRps: 25 });
    // no calls: idle after 1 s of zeros, then the 2 s cooldown → back to the minimum (1)
    for (let t = 0; t < 4; t++) {
      clock.advance(1000);
      await a.runOnce();
    }
    expect(fn.replicas).to.equal(1);
    expect(await registry.metrics()).to.contain(
      'gateway_autoscaler_decisions_total{function_name="f.ns",action="idle"} 1',
    );
  });

  it('runs a plan that mixes configurations as two groups, weighs each replica by its own configuration, and rolls out group changes', async () => {
    const clock = new ClockWithDate();
    const table = createProfileTable({
      entries: [row(50, 20), row(25, 8)],
      footprints: { m: { weightsBytes: 0, replicaBytes: 1 } },
    });
    const fn: StoredFunctionView = {
      name: 'g',
      namespace: 'ns',
      labels: { 'com.openfaas.scale.max': '8' },
      annotations: { 'fastgshare/slo_ms': '200', 'fastgshare/model': 'm', 'fastgshare/gpu_quota_limit': '0.5' },
      replicas: 1,
    };
    const calls: string[] = [];
    const meter = createRateMeter(clock.now());
    const capacities = createCapacityBook();
    const placement = createPlannedPlacement(evenSpreadPlacement);
    const a = createAutoscaler({
      clock,
      log: createLogger({ sink: new CaptureSink(), level: 'debug' }),
      registry: new Registry(),
      listFunctions: async () => [structuredClone(fn)],
      meter,
      // 50 % → 20 rps, 25 % → 8 rps: 25 rps = one 50 % replica and a 25 % residual
      profiles: { table: async () => table },
      inventory: { nodes: async () => [{ id: 'http://n1', memoryBytes: 1 << 30 }] },
      target: {
        async scale(_name, _ns, replicas) {
          calls.push(`scale ${replicas}`);
          fn.replicas = replicas;
          return replicas;
        },
        rollout() {
          calls.push('rollout');
        },
      },
      placement,
      capacities,
      options: {
        periodMs: 1000,
        devicesPerNode: 1,
        applyConfig: true,
        planner: { cooldownDownMs: 60_000 },
        estimator: { idleAfterMs: 60_000, peakWindowMs: 1000, headroom: 1 },
      },
    });
    const load = (n: number) => {
      for (let i = 0; i < n; i++)
        meter.started!({
          function: 'g.ns',
          name: 'g',
          namespace: 'ns',
          callId: String(i),
          method: 'POST',
          startedAt: 0,
        });
    };
    load(25);
    clock.advance(1000);
    await a.runOnce();
    expect(calls).to.deep.equal(['scale 2']);
    const n1 = { url: 'http://n1' } as never;
    const groups = placement.groups!({ name: 'g', namespace: 'ns', replicas: 2 }, n1, 2)!;
    // the quota limit 0.5 of the owner's annotations is raised to each group's quota request (1)
    const g50 = {
      'fastgshare/gpu_sm_partition': '50',
      'fastgshare/gpu_quota_request': '1',
      'fastgshare/max_batch': '1',
      'fastgshare/gpu_quota_limit': '1',
    };
    const g25 = { ...g50, 'fastgshare/gpu_sm_partition': '25' };
    expect(groups).to.have.deep.members([
      { replicas: 1, annotations: g50 },
      { replicas: 1, annotations: g25 },
    ]);
    expect(fn.annotations).to.deep.equal({
      'fastgshare/slo_ms': '200',
      'fastgshare/model': 'm',
      'fastgshare/gpu_quota_limit': '0.5',
    });
    expect(capacities.of('g.ns', replica('a', g50))).to.equal(20);
    expect(capacities.of('g.ns', replica('b', g25))).to.equal(8);
    // a replica of no planned group
    expect(capacities.of('g.ns', replica('c', { ...g25, 'fastgshare/gpu_sm_partition': '10' }))).to.equal(undefined);
    expect(a.explain('g.ns')!.configs).to.equal('p25-q1-b1 x1, p50-q1-b1 x1');
    // same demand: same groups, nothing to roll out
    load(25);
    clock.advance(1000);
    await a.runOnce();
    expect(calls).to.deep.equal(['scale 2']);
    // the owner drops the quota limit: same plan and count, but the groups' overrides change → a rollout, no scale
    delete fn.annotations!['fastgshare/gpu_quota_limit'];
    load(25);
    clock.advance(1000);
    await a.runOnce();
    expect(calls).to.deep.equal(['scale 2', 'rollout']);
    const { 'fastgshare/gpu_quota_limit': _limit, ...h50 } = g50;
    const h25 = { ...h50, 'fastgshare/gpu_sm_partition': '25' };
    expect(placement.groups!({ name: 'g', namespace: 'ns', replicas: 2 }, n1, 2)).to.have.deep.members([
      { replicas: 1, annotations: h50 },
      { replicas: 1, annotations: h25 },
    ]);
    expect(capacities.of('g.ns', replica('b', h25))).to.equal(8);
    expect(capacities.of('g.ns', replica('b', g25))).to.equal(undefined);
  });
});

function replica(id: string, group?: Record<string, string>): ReplicaStatus {
  return {
    id,
    name: 'f',
    namespace: 'ns',
    node: 'n',
    url: 'http://x',
    pid: 1,
    state: 'ready',
    restarts: 0,
    startedAt: '',
    usage: { cpu: 0, totalMemoryBytes: 0 },
    ...(group ? { group: { key: replicaGroupKey(group), annotations: group } } : {}),
  };
}

class ClockWithDate extends ManualClock {
  constructor() {
    super(1_000_000);
  }
}
