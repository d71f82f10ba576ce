/**
 * End to end: vertical scaling live. A real gateway + node agent + echo replica processes (cpu
 * device) with a synthetic profile of one process at two quotas (50 % of the cores: quota 0.5 →
 * 10 rps, quota 1 → 20 rps). At 8 rps the plan is one replica at quota 0.5; at 16 rps the
 * auto-scaler raises that replica's quota to 1 instead of adding one: the node agent keeps the same
 * replica process (same id, never restarted) and moves it to the new group, and
 * GET /system/explain says what was resized.
 */
import { expect } from 'chai';
import type { FunctionReplicas } from '../../core/contracts/node-agent.ts';
import { createProfileTable, type ProfileEntry } from '../../core/profiles/profile-table.ts';
import { staticProfileSource } from '../../scheduler/live/profile-source.ts';
import { fixedRateLoad, startAutoscalePlatform, type AutoscalePlatform } from '../gateway/autoscale/platform.ts';

const echoRow = (quota: number, rps: number): ProfileEntry => ({
  model: 'echo',
  deviceClass: 'cpu',
  partitionPercent: 50,
  quota,
  batch: 1,
  rps,
  latencyMs: { p50: 5 / quota, p95: 6 / quota, p99: 8 / quota },
  memoryBytes: 64 * 1024 ** 2,
  serviceMs: 5,
  source: 'measured',
});
const QUOTA = 'fastgshare/gpu_quota_request';

describe('auto-scaling end to end: a quota raise is applied to the running replica', function () {
  this.timeout(60_000);
  let p: AutoscalePlatform;

  before(async () => {
    const table = createProfileTable({
      entries: [echoRow(0.5, 10), echoRow(1, 20)],
      footprints: { echo: { weightsBytes: 0, replicaBytes: 64 * 1024 ** 2 } },
    });
    p = await startAutoscalePlatform({
      env: {
        FASTGSHARE_AUTOSCALE_PERIOD_MS: '1000',
        FASTGSHARE_AUTOSCALE_HEADROOM: '1',
        FASTGSHARE_AUTOSCALE_PEAK_WINDOW_MS: '1500',
        FASTGSHARE_AUTOSCALE_IDLE_AFTER_MS: '60000',
      },
      gateway: { profiles: staticProfileSource(table) },
    });
    await p.deploy('grow', { 'fastgshare/slo_ms': '200', 'fastgshare/model': 'echo' });
    await p.untilAvailable('grow', 1);
  });
  after(async () => {
    await p?.close();
  });

  const replicas = async () =>
    (
      (await (
        await fetch(`${p.agent.url}/v1/functions`, { headers: { authorization: `Bearer ${p.agent.token}` } })
      ).json()) as FunctionReplicas[]
    ).find((x) => x.name === 'grow')!.replicas;

  it('8 → 16 rps: the same replica process runs on at quota 1, no replica added', async () => {
    let load = fixedRateLoad(`${p.gateway.url}/function/grow`, 8);
    let failures = 0;
    try {
      const before = await p.eventually(async () => {
        const rs = await replicas();
        expect(rs).to.have.length(1);
        expect(rs[0]!.state).to.equal('ready');
        expect(rs[0]!.group?.annotations[QUOTA]).to.equal('0.5');
        return rs[0]!;
      }, 20_000);
      failures += (await load.stop()).failures;
      load = fixedRateLoad(`${p.gateway.url}/function/grow`, 16);
      await p.eventually(async () => {
        const rs = await replicas();
        expect(rs.map((r) => r.group?.annotations[QUOTA])).to.deep.equal(['1']);
      }, 20_000);
      const after = (await replicas())[0]!;
      expect(after.id).to.equal(before.id);
      expect(after.state).to.equal('ready');
      const rec = (await p.call('GET', '/system/explain/grow')).json();
      expect(rec.configs).to.equal('p50-q1-b1 x1');
      const text = (await p.call('GET', '/system/explain/grow?format=text')).text;
      expect(text).to.match(
        /raised grow\.openfaas-fn-\d+ on .*: quota 0\.5 → 1 \(partition 50 %, largest batch 1 kept\): 10\.0 → 20\.0 rps each/,
      );
      expect(text).to.contain('vertical first (quotas of running replicas, applied live without a restart)');
    } catch (err) {
      p.printAutoscalerLog();
      throw err;
    } finally {
      failures += (await load.stop()).failures;
    }
    expect(failures).to.equal(0);
  });
});
