/**
 * Device-level placement on a real node agent with two emulated devices and real onnx-node
 * replicas (emulated V100 resnet50, partition 100, batch 1, no token gating, so only the devices'
 * contention is measured): two saturated replicas of one function in two groups on emulated
 * devices 0 and 1 each keep their solo batch latency; the same two replicas moved onto one device
 * take about twice as long per batch. Batch latency is what each replica reports
 * (GET on the replica: stats.latencyMs, its running mean per batch size). Timing-sensitive: not in
 * the CI suite.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { loadStackFile } from '../../../core/images/stack-file.ts';
import { PLATFORM_ROOT } from '../../../core/version.ts';
import {
  FORWARD_TOKEN_HEADER,
  type FunctionReplicas,
  type ReplicaGroup,
  type ReplicaStatus,
} from '../../../core/contracts/node-agent.ts';
import { startSharingNode, type Load, type SharingNode } from '../sharing/real-replicas.ts';
import { makeSpec, waitFor } from '../harness.ts';

const D = 'fastgshare/emulated_device';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('emulated devices: replicas on different devices do not slow each other (real replicas)', function () {
  this.timeout(240_000);
  let node: SharingNode;
  let annotations: Record<string, string>;
  let image: string;

  before(async () => {
    const stack = await loadStackFile(join(PLATFORM_ROOT, 'stack.emulated.yml'));
    const fn = stack.spec.functions.resnet50!;
    image = fn.image!;
    annotations = {
      ...(fn.annotations ?? {}),
      'fastgshare/gpu_sm_partition': '100',
      'fastgshare/max_batch': '1',
      'fastgshare/slo_ms': '20000',
    };
    delete annotations['fastgshare/gpu_quota_request']; // ungated: batches meet only on the device
    delete annotations['fastgshare/gpu_quota_limit'];
    node = await startSharingNode({
      stack: 'stack.emulated.yml',
      functions: ['resnet50'],
      env: { FASTGSHARE_EMULATED_DEVICES: '2' },
    });
  });
  after(async () => {
    await node?.close();
  });

  const apply = async (groups: ReplicaGroup[]) => {
    const res = await fetch(`${node.agent.url}/v1/functions/openfaas-fn/r`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${node.agent.token}` },
      body: JSON.stringify({
        spec: makeSpec({ name: 'r', image, annotations }),
        replicas: groups.reduce((a, g) => a + g.replicas, 0),
        groups,
      }),
    });
    expect(res.status, await res.clone().text()).to.equal(200);
  };
  const settle = (devices: string[]) =>
    waitFor(
      `replicas ready on devices ${devices.join(', ')}`,
      async () => {
        const fns = (await (
          await fetch(`${node.agent.url}/v1/functions`, { headers: { authorization: `Bearer ${node.agent.token}` } })
        ).json()) as FunctionReplicas[];
        const rs = fns.find((f) => f.name === 'r')?.replicas ?? [];
        const on = rs.map((r) => r.group?.annotations[D]).sort();
        return rs.length === devices.length &&
          rs.every((r) => r.state === 'ready') &&
          JSON.stringify(on) === JSON.stringify([...devices].sort())
          ? rs
          : undefined;
      },
      90_000,
      200,
    );
  const describeReplica = async (r: ReplicaStatus) =>
    (await (
      await fetch(`${r.url}/`, { headers: r.forwardToken ? { [FORWARD_TOKEN_HEADER]: r.forwardToken } : {} })
    ).json()) as { device: { batch1LatencyMs: number }; stats: { latencyMs: Record<string, number>; batches: number } };

  /**
   * Saturates every replica for `ms`, then returns each one's reported batch-1 latency and its solo (calibrated)
   * latency.
   */
  async function saturated(
    rs: ReplicaStatus[],
    ms: number,
  ): Promise<{ latency: number; solo: number; batches: number }[]> {
    for (const r of rs) node.remember(r);
    const loads: Load[] = rs.map((r) => node.load(`${r.url}/`, Buffer.from('an item'), 'application/octet-stream', 4));
    try {
      await sleep(ms);
      return await Promise.all(
        rs.map(async (r) => {
          const d = await describeReplica(r);
          return { latency: d.stats.latencyMs['1']!, solo: d.device.batch1LatencyMs, batches: d.stats.batches };
        }),
      );
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
    }
  }

  it('two replicas on devices 0 and 1 keep their solo latency; on one device they take about twice as long', async () => {
    await apply([
      { replicas: 1, annotations: { [D]: '0' } },
      { replicas: 1, annotations: { [D]: '1' } },
    ]);
    const apart = await saturated(await settle(['0', '1']), 5000);
    await apply([{ replicas: 2, annotations: { [D]: '0' } }]);
    const together = await saturated(await settle(['0', '0']), 5000);
    console.log(
      `      batch-1 latency, ms (solo ${apart[0]!.solo}): different devices ${apart.map((x) => x.latency.toFixed(2)).join(' / ')} (${apart.map((x) => x.batches).join(' / ')} batches); one device ${together.map((x) => x.latency.toFixed(2)).join(' / ')} (${together.map((x) => x.batches).join(' / ')} batches)`,
    );
    for (const x of apart) {
      expect(x.batches, 'saturated').to.be.greaterThan(100);
      expect(x.latency / x.solo, `apart: ${x.latency} ms vs solo ${x.solo} ms`).to.be.below(1.35);
    }
    for (const x of together) {
      expect(x.batches, 'saturated').to.be.greaterThan(100);
      expect(x.latency / x.solo, `together: ${x.latency} ms vs solo ${x.solo} ms`).to.be.within(1.6, 2.5);
    }
  });
});
