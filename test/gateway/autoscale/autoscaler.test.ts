/** The auto-scaler loop with a manual clock and an in-memory control plane: counts, configuration, metrics, explain. */
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
import type { StoredFunctionView } from '../../../scheduler/live/live-function.ts';

const row = (partitionPercent: number, rps: number): ProfileEntry => ({ model: 'm', deviceClass: 'cpu', partitionPercent, quota: 1, batch: 1, rps, latencyMs: { p50: 5, p95: 5, p99: 5 }, memoryBytes: 1, source: 'measured' });

describe('auto-scaler loop', () => {
  it('applies configuration and count, records metrics and the explanation, and returns to the minimum', async () => {
    const clock = new ClockWithDate();
    const sink = new CaptureSink();
    const registry = new Registry();
    const fn: StoredFunctionView = { name: 'f', namespace: 'ns', labels: { 'com.openfaas.scale.max': '8' }, annotations: { 'fastgshare/slo_ms': '100', 'fastgshare/model': 'm', 'fastgshare/gpu_sm_partition': '100' }, replicas: 1 };
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
      profiles: staticProfileSource(createProfileTable({ entries: [row(25, 10), row(100, 30)], footprints: { m: { weightsBytes: 0, replicaBytes: 1 } } })),
      inventory: { nodes: async () => [{ id: 'http://n1', memoryBytes: 1 << 30 }] },
      target: {
        async scale(name, namespace, replicas) {
          calls.push(`scale ${name}.${namespace} ${replicas}`);
          fn.replicas = replicas;
          return replicas;
        },
        async updateAnnotations(name, _ns, update) {
          fn.annotations = update(fn.annotations!);
          calls.push(`config ${name} ${fn.annotations['fastgshare/gpu_sm_partition']}`);
          return true;
        },
      },
      placement,
      capacities,
      options: { periodMs: 1000, devicesPerNode: 2, applyConfig: true, planner: { cooldownDownMs: 2000 }, estimator: { idleAfterMs: 1000, peakWindowMs: 1000, headroom: 1 } },
    });
    // 25 calls in one second → 25 rps → 3 replicas of 25 % (10 rps each, the most efficient)
    for (let i = 0; i < 25; i++) meter.started!({ function: 'f.ns', name: 'f', namespace: 'ns', callId: String(i), method: 'POST', startedAt: 0 });
    clock.advance(1000);
    await a.runOnce();
    expect(calls).to.deep.equal(['config f 25', 'scale f.ns 3']);
    expect([...placement.place({ name: 'f', namespace: 'ns', replicas: 3 }, [{ url: 'http://n1' } as never]).values()]).to.deep.equal([3]);
    expect(capacities.of('f.ns', { id: 'r' } as never)).to.equal(10);
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
    expect(await registry.metrics()).to.contain('gateway_autoscaler_decisions_total{function_name="f.ns",action="idle"} 1');
  });
});

class ClockWithDate extends ManualClock {
  constructor() {
    super(1_000_000);
  }
}
