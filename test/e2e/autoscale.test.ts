/**
 * End to end: a load ramp against a real gateway + node agent + echo replica processes (cpu
 * device, SLO annotation, a small synthetic profile: one replica at 25 % of the cores serves
 * 10 rps). The auto-scaler scales replicas up with the load and back to the minimum when it
 * stops; the SLO holds while capacity exists; decisions appear in the logs, the metrics and
 * GET /system/explain.
 */
import { expect } from 'chai';
import { createProfileTable, type ProfileEntry } from '../../core/profiles/profile-table.ts';
import { staticProfileSource } from '../../scheduler/live/profile-source.ts';
import { startAutoscalePlatform, type AutoscalePlatform } from '../gateway/autoscale/platform.ts';

const echoRow = (partitionPercent: number, rps: number): ProfileEntry => ({
  model: 'echo',
  deviceClass: 'cpu',
  partitionPercent,
  quota: 1,
  batch: 1,
  rps,
  latencyMs: { p50: 5, p95: 6, p99: 8 },
  memoryBytes: 64 * 1024 ** 2,
  source: 'measured',
});

describe('auto-scaling end to end (echo on cpu, synthetic profile)', function () {
  this.timeout(60_000);
  let p: AutoscalePlatform;
  const profiled: string[] = [];

  before(async () => {
    const table = createProfileTable({
      entries: [echoRow(25, 10)],
      footprints: { echo: { weightsBytes: 0, replicaBytes: 64 * 1024 ** 2 } },
    });
    p = await startAutoscalePlatform({
      env: {
        FASTGSHARE_AUTOSCALE_PERIOD_MS: '300',
        FASTGSHARE_AUTOSCALE_COOLDOWN_DOWN_MS: '1500',
        FASTGSHARE_AUTOSCALE_IDLE_AFTER_MS: '1500',
        FASTGSHARE_AUTOSCALE_PEAK_WINDOW_MS: '1500',
      },
      gateway: { profiles: staticProfileSource(table), requestProfile: (k) => void profiled.push(k) },
    });
    for (const [service, annotations] of [
      ['echo', { 'fastgshare/slo_ms': '200', 'fastgshare/model': 'echo', 'fastgshare/gpu_sm_partition': '25' }],
      ['unprofiled', { 'fastgshare/slo_ms': '200' }],
    ] as const) {
      await p.deploy(service, annotations);
    }
    await p.untilAvailable('echo', 1);
  });
  after(async () => {
    await p?.close();
  });

  it('scales up under a load ramp, keeps the SLO, and goes back to the minimum when idle', async () => {
    const latencies: number[] = [];
    let failures = 0;
    let maxReplicas = 1;
    let rate = 5;
    let stop = false;
    const inflight = new Set<Promise<void>>();
    const load = (async () => {
      let next = Date.now();
      while (!stop) {
        next += 1000 / rate;
        const t0 = Date.now();
        const req: Promise<void> = fetch(`${p.gateway.url}/function/echo`, { method: 'POST', body: 'x' }).then(
          async (r) => {
            await r.text();
            if (r.status === 200) latencies.push(Date.now() - t0);
            else failures++;
          },
          () => void failures++,
        );
        inflight.add(req);
        void req.finally(() => inflight.delete(req));
        await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      }
    })();
    const ramp = setInterval(() => (rate = Math.min(30, rate + 5)), 1000); // 5 → 30 rps over 5 s
    try {
      await p.eventually(async () => {
        const f = (await p.call('GET', '/system/function/echo')).json();
        maxReplicas = Math.max(maxReplicas, f.availableReplicas);
        expect(f.replicas).to.be.at.least(3);
        expect(f.availableReplicas).to.be.at.least(3);
      }, 20_000);
    } finally {
      clearInterval(ramp);
      stop = true;
      await load;
      await Promise.all(inflight);
    }
    expect(failures).to.equal(0);
    latencies.sort((a, b) => a - b);
    const p95 = latencies[Math.floor(latencies.length * 0.95)]!;
    expect(p95, `p95 of ${latencies.length} calls`).to.be.below(200);

    const explained = (await p.call('GET', '/system/explain/echo')).json();
    expect(explained.function).to.equal('echo.openfaas-fn');
    expect(explained.decision.plan.explanation.sloMs).to.equal(200);

    // idle: back to the minimum after the idle time and the scale-down cooldown
    await p.eventually(async () => {
      const f = (await p.call('GET', '/system/function/echo')).json();
      expect(f.replicas).to.equal(1);
      expect(f.availableReplicas).to.equal(1);
    }, 15_000);

    const decisions = p.sink.records.filter(
      (r) => r.message === 'autoscaler decision' && r.fields.function === 'echo.openfaas-fn',
    );
    const ups = decisions.filter((r) => r.fields.action === 'scale-up');
    expect(ups.length).to.be.greaterThan(0);
    expect(Math.max(...ups.map((r) => r.fields.replicas as number))).to.be.at.least(3);
    expect(ups[0]!.fields.config).to.equal('p25-q1-b1');
    expect(ups[0]!.fields.demandRps as number).to.be.greaterThan(10);
    expect(decisions.some((r) => r.fields.action === 'idle' || r.fields.action === 'scale-down')).to.equal(true);

    const metrics = (await p.call('GET', '/metrics')).text;
    expect(metrics).to.match(/gateway_autoscaler_desired_replicas\{function_name="echo\.openfaas-fn"\} 1\b/);
    expect(metrics).to.match(
      /gateway_autoscaler_decisions_total\{function_name="echo\.openfaas-fn",action="scale-up"\} [1-9]/,
    );
    expect(metrics).to.match(/gateway_autoscaler_demand_rps\{function_name="echo\.openfaas-fn"\} /);

    const text = (await p.call('GET', '/system/explain/echo?format=text')).text;
    expect(text).to.contain('function echo.openfaas-fn');
    expect(text).to.contain('SLO 200 ms');
  });

  it('gives a function without a profile the safe default and asks for a profiling job', async () => {
    await p.eventually(async () => expect(profiled).to.deep.equal(['unprofiled.openfaas-fn']), 5_000);
    const rec = (await p.call('GET', '/system/explain/unprofiled')).json();
    expect(rec.decision.plan.needsProfiling).to.equal(true);
    expect(
      (await p.call('GET', '/system/function/unprofiled')).json().annotations['fastgshare/gpu_sm_partition'],
    ).to.equal(undefined);
  });
});
