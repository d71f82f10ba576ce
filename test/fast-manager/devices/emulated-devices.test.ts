/**
 * Several emulated devices on one real node agent (FASTGSHARE_EMULATED_DEVICES=2) with real echo
 * replicas: the node reports every device (and the GPUs a real, fake, nvidia-smi lists); two
 * replica groups of one function on emulated devices 0 and 1 get different contention sockets
 * and different token-scheduler devices; batches on the two devices' sockets do not contend
 * while two on one device do (the device's own account of elapsed time); a device index the node does not have is a
 * 400 naming
 * fastgshare/emulated_device and the node's count; the node config is validated.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { readNodeConfig } from '../../../core/config.ts';
import { readJsonLines, writeJsonLine } from '../../../core/net/ndjson.ts';
import { ConfigError } from '../../../core/errors.ts';
import type {
  ApplyFunctionRequest,
  FunctionReplicas,
  NodeInfo,
  ReplicaGroup,
  ReplicaStatus,
} from '../../../core/contracts/node-agent.ts';
import type { UsageSnapshot } from '../../../fast-manager/sharing/meter.ts';
import type { DeviceOccupancy } from '../../../fast-manager/sharing/token-server.ts';
import { createFakeNvidiaSmi, type FakeNvidiaSmi } from '../fixtures/fake-nvidia-smi.ts';
import { makeSpec, startHarness, waitFor, type Harness } from '../harness.ts';

const D = 'fastgshare/emulated_device';
const MiB = 2 ** 20;
const emulated = {
  'fastgshare/device': 'emulated',
  'fastgshare/emulated_profile': 'v100-resnet50',
  'fastgshare/gpu_sm_partition': '100',
  'fastgshare/gpu_quota_request': '0.5',
};
type Usage = UsageSnapshot & { devices: DeviceOccupancy[] };
type ErrorBody = { code: string; message: string };

describe('fast-manager: several emulated devices per node', function () {
  this.timeout(40_000);
  let smi: FakeNvidiaSmi;
  let h: Harness;
  before(async () => {
    smi = await createFakeNvidiaSmi();
    await smi.setGpus([16160, 32768]);
    h = await startHarness({ env: { FASTGSHARE_EMULATED_DEVICES: '2', FASTGSHARE_NVIDIA_SMI: smi.path } });
  });
  after(async () => {
    await h?.close();
    await smi?.cleanup();
  });

  const put = (name: string, annotations: Record<string, string>, replicas: number, groups?: ReplicaGroup[]) => {
    const req: ApplyFunctionRequest = {
      spec: makeSpec({ name, annotations }),
      replicas,
      ...(groups ? { groups } : {}),
    };
    return h.call<FunctionReplicas & ErrorBody>('PUT', `/v1/functions/openfaas-fn/${name}`, req);
  };
  const env = async (r: ReplicaStatus) => (await (await fetch(`${r.url}/env`)).json()) as Record<string, string>;

  it('reads FASTGSHARE_EMULATED_DEVICES (default 1) and refuses values that are no count of devices', () => {
    expect(readNodeConfig({}, 'h').emulatedDevices).to.equal(1);
    expect(readNodeConfig({ FASTGSHARE_EMULATED_DEVICES: '4' }, 'h').emulatedDevices).to.equal(4);
    for (const bad of ['0', '65', 'two', '1.5']) {
      expect(() => readNodeConfig({ FASTGSHARE_EMULATED_DEVICES: bad }, 'h'), bad).to.throw(
        ConfigError,
        /^FASTGSHARE_EMULATED_DEVICES: /,
      );
    }
  });

  it('reports every device with its id, kind, index and memory when known; one contention socket per emulated device', async () => {
    const info = await h.call<NodeInfo>('GET', '/v1/node');
    expect(info.status).to.equal(200);
    expect(info.body.devices).to.deep.equal([
      { id: 'cpu', kind: 'cpu', index: 0, memoryBytes: totalmem() },
      { id: 'emulated', kind: 'emulated', index: 0 },
      { id: 'emulated:1', kind: 'emulated', index: 1 },
      { id: 'cuda:0', kind: 'cuda', index: 0, memoryBytes: 16160 * MiB },
      { id: 'cuda:1', kind: 'cuda', index: 1, memoryBytes: 32768 * MiB },
    ]);
    expect(existsSync(join(h.dataDir, 'run', 'emu.sock'))).to.equal(true);
    expect(existsSync(join(h.dataDir, 'run', 'emu-1.sock'))).to.equal(true);
    expect(existsSync(join(h.dataDir, 'run', 'emu-2.sock'))).to.equal(false);
  });

  /** Sends one batch per socket, all in the same turn, and returns each one's elapsedMs as the device accounts it. */
  const runAll = (sockets: string[], ms: number) =>
    Promise.all(
      sockets.map(
        (path, i) =>
          new Promise<number>((resolve, reject) => {
            const s = createConnection(path);
            readJsonLines(s, {
              message: (m) => (resolve((m as { elapsedMs: number }).elapsedMs), s.end()),
              bad: reject,
            });
            s.once('connect', () => writeJsonLine(s, { op: 'run', id: `b${i}`, partition: 100, ms }));
            s.on('error', reject);
          }),
      ),
    );

  it('lets batches on different emulated devices run at full speed while two on one device share it', async () => {
    const [s0, s1] = [join(h.dataDir, 'run', 'emu.sock'), join(h.dataDir, 'run', 'emu-1.sock')];
    for (const e of await runAll([s0, s1], 40)) expect(e).to.be.closeTo(40, 0.01);
    // sent in the same turn, two partition-100 batches on one device overlap for (almost) all their time
    for (const e of await runAll([s1, s1], 40)) expect(e).to.be.greaterThan(70);
    for (const e of await runAll([s0, s0], 40)) expect(e).to.be.greaterThan(70);
  });

  it('runs two groups of one function on emulated devices 0 and 1: different sockets, different token schedulers', async () => {
    const res = await put('twodev', emulated, 2, [
      { replicas: 1, annotations: { [D]: '0' } },
      { replicas: 1, annotations: { [D]: '1' } },
    ]);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const f = await waitFor(
      'two ready replicas, one per group',
      async () => {
        const fn = await h.fn('twodev');
        return fn && fn.replicas.length === 2 && fn.replicas.every((r) => r.state === 'ready') ? fn : undefined;
      },
      15_000,
    );
    const byDevice = new Map(f.replicas.map((r) => [r.group!.annotations[D]!, r]));
    expect([...byDevice.keys()].sort()).to.deep.equal(['0', '1']);
    const e0 = await env(byDevice.get('0')!);
    const e1 = await env(byDevice.get('1')!);
    expect(e0).to.include({
      FASTGSHARE_DEVICE: 'emulated',
      FASTGSHARE_EMULATED_DEVICE: '0',
      FASTGSHARE_EMULATED_DEVICE_SOCKET: join(h.dataDir, 'run', 'emu.sock'),
    });
    expect(e1).to.include({
      FASTGSHARE_DEVICE: 'emulated',
      FASTGSHARE_EMULATED_DEVICE: '1',
      FASTGSHARE_EMULATED_DEVICE_SOCKET: join(h.dataDir, 'run', 'emu-1.sock'),
    });
    // both are token-gated, each by its own device's scheduler
    const usage = (await h.call<Usage>('GET', '/v1/usage')).body;
    const deviceOf = (r: ReplicaStatus) => usage.replicas.find((u) => u.replicaId === r.id)?.device;
    expect(deviceOf(byDevice.get('0')!)).to.equal('emulated');
    expect(deviceOf(byDevice.get('1')!)).to.equal('emulated:1');
    expect(usage.devices.map((d) => d.device)).to.include.members(['emulated', 'emulated:1']);
    // moving a group to the other device rolls its replica onto that device
    const moved = await put('twodev', emulated, 2, [{ replicas: 2, annotations: { [D]: '1' } }]);
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    const after = await waitFor(
      'both replicas on device 1',
      async () => {
        const fn = await h.fn('twodev');
        return fn &&
          fn.replicas.length === 2 &&
          fn.replicas.every((r) => r.state === 'ready' && r.group?.annotations[D] === '1')
          ? fn
          : undefined;
      },
      15_000,
    );
    for (const r of after.replicas)
      expect((await env(r)).FASTGSHARE_EMULATED_DEVICE_SOCKET).to.equal(join(h.dataDir, 'run', 'emu-1.sock'));
    const u2 = (await h.call<Usage>('GET', '/v1/usage')).body;
    for (const r of after.replicas)
      expect(u2.replicas.find((u) => u.replicaId === r.id)?.device).to.equal('emulated:1');
    expect((await h.call('DELETE', '/v1/functions/openfaas-fn/twodev')).status).to.equal(200);
  });

  it("refuses a device index the node does not have, naming fastgshare/emulated_device and the node's count", async () => {
    const plain = await put('nodev', { ...emulated, [D]: '2' }, 1);
    expect(plain.status, JSON.stringify(plain.body)).to.equal(400);
    expect(plain.body.message).to.match(
      /annotation fastgshare\/emulated_device: this node has 2 emulated devices .*no device 2; use 0 to 1/,
    );
    const grouped = await put('nodev', emulated, 2, [
      { replicas: 1, annotations: { [D]: '0' } },
      { replicas: 1, annotations: { [D]: '7' } },
    ]);
    expect(grouped.status, JSON.stringify(grouped.body)).to.equal(400);
    expect(grouped.body.message).to.match(
      /fastgshare\/emulated_device: this node has 2 emulated devices .*no device 7/,
    );
    const notIndex = await put('nodev', { ...emulated, [D]: 'last' }, 1);
    expect(notIndex.status).to.equal(400);
    expect(notIndex.body.message).to.match(/annotation fastgshare\/emulated_device: "last" is not a whole number/);
    expect(await h.fn('nodev')).to.equal(undefined); // nothing was started
  });
});
