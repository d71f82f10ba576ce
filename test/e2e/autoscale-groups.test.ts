/**
 * End to end: the auto-scaler's plan of saturated replicas plus one residual replica of a cheaper
 * configuration runs live as replicas of two configurations. A real gateway + node agent + echo
 * replica processes (cpu device) under a steady load of about 24 rps, with a synthetic profile
 * (50 % of the cores → 20 rps, 30 % → 10 rps): for 20 to 30 rps the cheapest cover is one 50 %
 * replica and a 30 % residual, on the one cpu device the node agent reports. Each replica runs its own group's
 * partition, the gateway sends
 * it calls in proportion to its own configuration's capacity, and the stored function keeps its
 * owner's annotations.
 */
import { expect } from 'chai';
import type { FunctionReplicas } from '../../core/contracts/node-agent.ts';
import { createProfileTable, type ProfileEntry } from '../../core/profiles/profile-table.ts';
import { staticProfileSource } from '../../scheduler/live/profile-source.ts';
import {
  fixedRateLoad,
  processEnv,
  startAutoscalePlatform,
  type AutoscalePlatform,
} from '../gateway/autoscale/platform.ts';

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

const P = 'fastgshare/gpu_sm_partition';

describe('auto-scaling end to end: a plan with a residual runs two configurations live', function () {
  this.timeout(60_000);
  let p: AutoscalePlatform;

  before(async () => {
    const table = createProfileTable({
      entries: [echoRow(50, 20), echoRow(30, 10)],
      footprints: { echo: { weightsBytes: 0, replicaBytes: 64 * 1024 ** 2 } },
    });
    p = await startAutoscalePlatform({
      env: {
        FASTGSHARE_AUTOSCALE_PERIOD_MS: '1000',
        FASTGSHARE_AUTOSCALE_HEADROOM: '1',
        // the node agent reports one cpu device: that wins over this guess
        FASTGSHARE_AUTOSCALE_DEVICES_PER_NODE: '3',
        FASTGSHARE_AUTOSCALE_COOLDOWN_DOWN_MS: '2000',
        FASTGSHARE_AUTOSCALE_IDLE_AFTER_MS: '60000',
        FASTGSHARE_AUTOSCALE_PEAK_WINDOW_MS: '1500',
        // the plan for the demand as a whole (its quota-1 profile has nothing to resize vertically,
        // and the vertical step would keep whatever the ramp started: see autoscale-vertical.test.ts)
        FASTGSHARE_AUTOSCALE_VERTICAL: 'false',
      },
      gateway: { profiles: staticProfileSource(table) },
    });
    await p.deploy('mixed', { 'fastgshare/slo_ms': '200', 'fastgshare/model': 'echo', [P]: '50' });
    await p.untilAvailable('mixed', 1);
  });
  after(async () => {
    await p?.close();
  });

  it('runs the saturated and the residual configuration side by side, each replica with its own partition', async () => {
    const load = fixedRateLoad(`${p.gateway.url}/function/mixed`, 24);
    let failures = 0;
    let live: FunctionReplicas;
    let plan: Map<string, number>;
    const split = new Map<string, number>();
    try {
      [live, plan] = await p.eventually(async () => {
        const rec = (await p.call('GET', '/system/explain/mixed')).json();
        const counts = new Map<string, number>();
        for (const r of rec.decision.plan.replicas as { config: { partitionPercent: number } }[])
          counts.set(String(r.config.partitionPercent), (counts.get(String(r.config.partitionPercent)) ?? 0) + 1);
        expect(counts.size, `plan ${rec.configs}`).to.equal(2);
        expect(rec.configs).to.match(/^p(30|50)-q1-b1 x\d, p(30|50)-q1-b1 x\d$/);
        for (const n of rec.decision.placement as { action: string; deviceId?: string }[])
          if (n.action !== 'stopped' && n.deviceId) expect(n.deviceId).to.equal(`${p.agent.url}#cpu0`);
        const f = (
          (await (
            await fetch(`${p.agent.url}/v1/functions`, { headers: { authorization: `Bearer ${p.agent.token}` } })
          ).json()) as FunctionReplicas[]
        ).find((x) => x.name === 'mixed')!;
        expect(f.replicas.every((r) => r.state === 'ready')).to.equal(true);
        const running = new Map<string, number>();
        for (const r of f.replicas)
          running.set(r.group!.annotations[P]!, (running.get(r.group!.annotations[P]!) ?? 0) + 1);
        expect(Object.fromEntries(running)).to.deep.equal(Object.fromEntries(counts));
        return [f, counts] as const;
      }, 30_000);
      // the gateway weighs each replica by its own configuration's profiled capacity (20 vs 10 rps)
      const partitionOf = new Map(live.replicas.map((r) => [r.id, r.group!.annotations[P]!]));
      const answers = await Promise.all(
        Array.from({ length: 30 }, () =>
          fetch(`${p.gateway.url}/function/mixed/slow?ms=300`, { method: 'POST' }).then(
            async (r) => (await r.text(), r.headers.get('x-replica')!),
          ),
        ),
      );
      for (const id of answers)
        split.set(partitionOf.get(id) ?? 'other', (split.get(partitionOf.get(id) ?? 'other') ?? 0) + 1);
    } catch (err) {
      p.printAutoscalerLog();
      throw err;
    } finally {
      ({ failures } = await load.stop());
    }
    expect(failures).to.equal(0);
    expect([...plan.keys()].sort()).to.deep.equal(['30', '50']);
    if (plan.get('50') === 1 && plan.get('30') === 1) {
      // 2:1 by capacity (20 of 30 calls; an even split would give 15), give or take the background load's calls
      expect(split.get('50')).to.be.within(18, 22);
    }
    for (const r of live.replicas) {
      const env = processEnv(r.pid!);
      expect(env.FASTGSHARE_PARTITION).to.equal(r.group!.annotations[P]);
      expect(r.group!.annotations['fastgshare/gpu_quota_request']).to.equal('1');
    }
    // the owner's annotations stay as deployed
    expect((await p.call('GET', '/system/function/mixed')).json().annotations[P]).to.equal('50');
    const applied = p.sink.records.filter(
      (r) => r.message === 'autoscaler configurations applied' && r.fields.function === 'mixed.openfaas-fn',
    );
    expect(
      applied.some(
        (r) => String(r.fields.configs).includes('p30-q1-b1') && String(r.fields.configs).includes('p50-q1-b1'),
      ),
    ).to.equal(true);
  });
});
