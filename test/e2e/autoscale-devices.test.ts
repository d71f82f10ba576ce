/**
 * End to end: device-level placement runs live. A real gateway + a node agent with two emulated
 * devices (FASTGSHARE_EMULATED_DEVICES=2) + echo replica processes deployed as an emulated
 * function, under a steady load of about 30 rps, with a synthetic profile (partition 100 → 20 rps).
 * Two partition-100 replicas cannot share one device (Σ quota × partition ≤ 1), so the scheduler
 * places them on the node's two emulated devices, and the auto-scaler sends the node two replica
 * groups naming emulated devices 0 and 1: each replica runs on its own device (its own contention
 * socket and its own token scheduler).
 */
import { expect } from 'chai';
import type { FunctionReplicas } from '../../core/contracts/node-agent.ts';
import { createProfileTable, type ProfileEntry } from '../../core/profiles/profile-table.ts';
import { V100_DEVICE_CLASS } from '../../core/profiles/calibration-profiles.ts';
import { staticProfileSource } from '../../scheduler/live/profile-source.ts';
import {
  fixedRateLoad,
  processEnv,
  startAutoscalePlatform,
  type AutoscalePlatform,
} from '../gateway/autoscale/platform.ts';

const D = 'fastgshare/emulated_device';
const row: ProfileEntry = {
  model: 'v100-resnet50',
  deviceClass: V100_DEVICE_CLASS,
  partitionPercent: 100,
  quota: 1,
  batch: 1,
  rps: 20,
  latencyMs: { p50: 5, p95: 6, p99: 8 },
  memoryBytes: 64 * 1024 ** 2,
  source: 'measured',
};

describe('auto-scaling end to end: replicas placed on two emulated devices of one node run there', function () {
  this.timeout(60_000);
  let p: AutoscalePlatform;

  before(async () => {
    p = await startAutoscalePlatform({
      nodeEnv: { FASTGSHARE_EMULATED_DEVICES: '2' },
      env: {
        FASTGSHARE_AUTOSCALE_PERIOD_MS: '1000',
        FASTGSHARE_AUTOSCALE_HEADROOM: '1',
        // the node agent reports its devices: that wins over this guess
        FASTGSHARE_AUTOSCALE_DEVICES_PER_NODE: '5',
        FASTGSHARE_AUTOSCALE_COOLDOWN_DOWN_MS: '60000',
        FASTGSHARE_AUTOSCALE_IDLE_AFTER_MS: '60000',
        FASTGSHARE_AUTOSCALE_PEAK_WINDOW_MS: '1500',
      },
      gateway: {
        profiles: staticProfileSource(
          createProfileTable({
            entries: [row],
            footprints: { 'v100-resnet50': { weightsBytes: 0, replicaBytes: 64 * 1024 ** 2 } },
          }),
        ),
      },
    });
    await p.deploy('twodev', {
      'fastgshare/slo_ms': '200',
      'fastgshare/device': 'emulated',
      'fastgshare/emulated_profile': 'v100-resnet50',
      'fastgshare/gpu_sm_partition': '100',
      'fastgshare/gpu_quota_request': '1',
    });
    await p.untilAvailable('twodev', 1);
  });
  after(async () => {
    await p?.close();
  });

  it('places two partition-100 replicas on emulated devices 0 and 1 and the node runs each on its device', async () => {
    const load = fixedRateLoad(`${p.gateway.url}/function/twodev`, 30);
    let failures = 0;
    let live: FunctionReplicas;
    try {
      live = await p.eventually(async () => {
        const rec = (await p.call('GET', '/system/explain/twodev')).json();
        expect(rec.replicas, `plan ${rec.configs}`).to.equal(2);
        const devices = (rec.decision.placement as { action: string; deviceId?: string }[])
          .filter((n) => n.action !== 'stopped' && n.deviceId)
          .map((n) => n.deviceId)
          .sort();
        expect(devices).to.deep.equal([`${p.agent.url}#${V100_DEVICE_CLASS}0`, `${p.agent.url}#${V100_DEVICE_CLASS}1`]);
        const f = (
          (await (
            await fetch(`${p.agent.url}/v1/functions`, { headers: { authorization: `Bearer ${p.agent.token}` } })
          ).json()) as FunctionReplicas[]
        ).find((x) => x.name === 'twodev')!;
        expect(f.replicas).to.have.length(2);
        expect(f.replicas.every((r) => r.state === 'ready')).to.equal(true);
        expect(f.replicas.map((r) => r.group?.annotations[D]).sort()).to.deep.equal(['0', '1']);
        return f;
      }, 30_000);
    } catch (err) {
      p.printAutoscalerLog();
      throw err;
    } finally {
      ({ failures } = await load.stop());
    }
    expect(failures).to.equal(0);
    const usage = (await (
      await fetch(`${p.agent.url}/v1/usage`, { headers: { authorization: `Bearer ${p.agent.token}` } })
    ).json()) as { replicas: { replicaId: string; device: string }[] };
    const sockets = new Set<string>();
    for (const r of live.replicas) {
      const index = r.group!.annotations[D]!;
      const env = processEnv(r.pid!);
      expect(env.FASTGSHARE_EMULATED_DEVICE).to.equal(index);
      sockets.add(env.FASTGSHARE_EMULATED_DEVICE_SOCKET!);
      expect(env.FASTGSHARE_EMULATED_DEVICE_SOCKET).to.match(
        index === '0' ? /\/run\/emu\.sock$/ : /\/run\/emu-1\.sock$/,
      );
      expect(usage.replicas.find((u) => u.replicaId === r.id)?.device).to.equal(
        index === '0' ? 'emulated' : 'emulated:1',
      );
      expect(r.group!.annotations).to.include({
        'fastgshare/gpu_sm_partition': '100',
        'fastgshare/gpu_quota_request': '1',
      });
    }
    expect(sockets.size).to.equal(2);
    // the owner's annotations stay as deployed (no device index written into the stored function)
    expect((await p.call('GET', '/system/function/twodev')).json().annotations).to.not.have.property(D);
  });
});
