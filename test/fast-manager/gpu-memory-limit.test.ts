/**
 * fast-manager: the fastgshare/gpu_mem limit of cuda replicas, end to end through a real agent.
 * The agent's nvidia-smi (FASTGSHARE_NVIDIA_SMI) is a real fake executable printing the device
 * memory the test assigns to the real replica processes' pids. The replica is the echo fixture
 * deployed with fastgshare/device=cuda (it does not load onnxruntime, so no GPU is needed; the
 * deploy-time CUDA library probe is the injected part, as the node has no CUDA libraries).
 */
import { expect } from 'chai';
import { pidAlive, startHarness, waitFor, waitReady, type Harness } from './harness.ts';
import type { ReplicaStatus } from '../../core/contracts/node-agent.ts';
import { createFakeNvidiaSmi, type FakeNvidiaSmi } from './fixtures/fake-nvidia-smi.ts';

const MiB = 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cuda = (gpuMem?: string): Record<string, string> => ({
  'fastgshare/device': 'cuda',
  ...(gpuMem ? { 'fastgshare/gpu_mem': gpuMem } : {}),
});

describe('fast-manager: device memory limit of cuda replicas (fastgshare/gpu_mem)', function () {
  this.timeout(30_000);
  let smi: FakeNvidiaSmi;
  let h: Harness;
  beforeEach(async () => {
    smi = await createFakeNvidiaSmi();
  });
  afterEach(async () => {
    await h?.close();
    await smi.cleanup();
  });

  // FASTGSHARE_SANDBOX=off: the fake nvidia-smi is told the pids the echo fixture reports for its
  // children, and inside a sandbox (its own pid namespace) those are not the host's pids that a
  // real nvidia-smi lists; the sandbox itself is tested in test/fast-manager/sandbox/.
  const start = (nvidiaSmi: string) =>
    startHarness({
      env: { FASTGSHARE_NVIDIA_SMI: nvidiaSmi, FASTGSHARE_SANDBOX: 'off' },
      devices: { probeCuda: () => ({ missing: [] }) },
    });
  const replica = async (name: string) => (await h.fn(name))?.replicas[0] as ReplicaStatus | undefined;

  it('kills a cuda replica whose processes hold more device memory than fastgshare/gpu_mem, and restarts it', async () => {
    h = await start(smi.path);
    await h.apply({ name: 'gpu-hog', annotations: cuda('100Mi') }, 1);
    const r = (await waitReady(h, 'gpu-hog', 1)).replicas[0]! as ReplicaStatus;
    expect(r.deviceMemoryLimit).to.deep.include({
      annotation: 'fastgshare/gpu_mem',
      limit: '100Mi',
      limitBytes: 100 * MiB,
    });
    expect(r.deviceMemoryLimit?.enforcement).to.be.oneOf(['pending', 'enforced']);

    await smi.setMiB({ [r.pid!]: 60 });
    const under = await waitFor('device memory sampled', async () => {
      const x = await replica('gpu-hog');
      return x?.usage.deviceMemoryBytes === 60 * MiB ? x : undefined;
    });
    expect(under.deviceMemoryLimit).to.deep.equal({
      annotation: 'fastgshare/gpu_mem',
      limit: '100Mi',
      limitBytes: 100 * MiB,
      enforcement: 'enforced',
    });
    const metrics = await (
      await fetch(`${h.agent.url}/metrics`, { headers: { authorization: `Bearer ${h.agent.token}` } })
    ).text();
    expect(metrics).to.contain(
      `fastgshare_node_replica_device_memory_bytes{function_name="gpu-hog.openfaas-fn",replica="${r.id}"} ${60 * MiB}`,
    );

    // a child process in the replica's group counts too: 60 + 50 MiB is over 100Mi
    const childPid = Number(await (await fetch(`${r.url}/burn?ms=3000`)).text());
    await smi.setMiB({ [r.pid!]: 60, [childPid]: 50 });
    const killed = await waitFor(
      'device memory kill',
      async () => {
        const x = await replica('gpu-hog');
        return x && x.restarts >= 1 ? x : undefined;
      },
      5_000,
      20,
    );
    expect(killed.lastExit?.signal).to.equal('SIGKILL');
    expect(killed.lastExit?.reason).to.equal(
      `killed: device memory limit 100Mi (fastgshare/gpu_mem) exceeded (used 110Mi of GPU memory, ${110 * MiB} bytes)`,
    );
    expect(pidAlive(r.pid!)).to.equal(false);
    expect(pidAlive(childPid)).to.equal(false);
    const texts = (await h.logs('name=gpu-hog')).map((l) => l.text);
    expect(texts).to.include(
      `replica killed: device memory limit 100Mi (fastgshare/gpu_mem) exceeded (used 110Mi of GPU memory, ${110 * MiB} bytes); restarting in 200ms`,
    );
    expect(
      h.sink.records.some(
        (x) =>
          x.level === 'warn' &&
          x.message === 'killing replica' &&
          String(x.fields.reason).includes('fastgshare/gpu_mem'),
      ),
    ).to.equal(true);

    // same restart semantics as any crash: a new process, the limit checked afresh
    const back = (await waitReady(h, 'gpu-hog', 1)).replicas[0]! as ReplicaStatus;
    expect(back.id).to.equal(r.id);
    expect(back.pid).to.not.equal(r.pid);
    expect(back.restarts).to.equal(1);
    const after = await waitFor('restarted replica sampled', async () => {
      const x = await replica('gpu-hog');
      return x?.usage.deviceMemoryBytes === 0 ? x : undefined;
    });
    expect(after.deviceMemoryLimit?.enforcement).to.equal('enforced');
    const m2 = await (
      await fetch(`${h.agent.url}/metrics`, { headers: { authorization: `Bearer ${h.agent.token}` } })
    ).text();
    expect(m2).to.contain('fastgshare_node_replica_restarts_total{function_name="gpu-hog.openfaas-fn"} 1');
  });

  it('leaves alone a cuda replica under its limit, a cuda replica without one, and a cpu replica', async () => {
    h = await start(smi.path);
    await Promise.all([
      h.apply({ name: 'gpu-ok', annotations: cuda('1Gi') }, 1),
      h.apply({ name: 'gpu-free', annotations: cuda() }, 1),
      h.apply({ name: 'plain' }, 1),
    ]);
    const [ok, free, plain] = await Promise.all(
      ['gpu-ok', 'gpu-free', 'plain'].map(async (n) => (await waitReady(h, n, 1)).replicas[0]! as ReplicaStatus),
    );
    // 1000 MiB is under 1Gi; 5000 MiB would break any such limit, but those two have none to break
    await smi.setMiB({ [ok.pid!]: 1000, [free.pid!]: 5000, [plain.pid!]: 5000 });
    await waitFor(
      'device memory sampled',
      async () => (await replica('gpu-ok'))?.usage.deviceMemoryBytes === 1000 * MiB,
    );
    // several samples more: a sample judges every replica in the step that reads it (a kill is decided there), and
    // the next query starts only once the previous sample is done
    const queries = await smi.queries();
    await waitFor('three more samples', async () => (await smi.queries()) >= queries + 3);
    expect(h.sink.records.filter((x) => x.message === 'killing replica').map((x) => x.fields)).to.deep.equal([]);
    const [ok2, free2, plain2] = await Promise.all(['gpu-ok', 'gpu-free', 'plain'].map(replica));
    for (const [before, now] of [
      [ok, ok2],
      [free, free2],
      [plain, plain2],
    ] as const) {
      expect(now?.restarts, now?.name).to.equal(0);
      expect(now?.pid, now?.name).to.equal(before.pid);
      expect(now?.state, now?.name).to.equal('ready');
    }
    expect(ok2!.usage.deviceMemoryBytes).to.equal(1000 * MiB);
    expect(ok2!.deviceMemoryLimit).to.deep.include({ limit: '1Gi', limitBytes: 2 ** 30, enforcement: 'enforced' });
    expect(free2!.usage.deviceMemoryBytes).to.equal(5000 * MiB); // measured, not limited
    expect(free2!).to.not.have.property('deviceMemoryLimit');
    expect(plain2!.usage).to.not.have.property('deviceMemoryBytes'); // not a cuda replica: not measured
    expect(plain2!).to.not.have.property('deviceMemoryLimit');
  });

  it('says in the status and once in the log that the limit cannot be enforced without nvidia-smi', async () => {
    const missing = `${smi.path}-missing`;
    h = await start(missing);
    await Promise.all([
      h.apply({ name: 'gpu-a', annotations: cuda('100Mi') }, 1),
      h.apply({ name: 'gpu-b', annotations: cuda('200Mi') }, 1),
    ]);
    await Promise.all([waitReady(h, 'gpu-a', 1), waitReady(h, 'gpu-b', 1)]);
    const a = await waitFor('unenforced status', async () => {
      const x = await replica('gpu-a');
      return x?.deviceMemoryLimit?.enforcement === 'unenforced' ? x : undefined;
    });
    expect(a.deviceMemoryLimit?.reason).to.equal(
      `cannot measure device memory: "${missing}" not found (install the NVIDIA driver utilities or set FASTGSHARE_NVIDIA_SMI to its path)`,
    );
    expect(a.usage).to.not.have.property('deviceMemoryBytes');
    // more samples: still one log line for the node (nvidia-smi is missing, so no run marks a sample: wait out a few
    // sampling periods of 150 ms)
    await sleep(600);
    const warns = h.sink.records.filter((x) => x.level === 'warn' && x.message.startsWith('cannot read device memory'));
    expect(warns.map((w) => w.message)).to.deep.equal([
      `cannot read device memory, so fastgshare/gpu_mem limits of cuda replicas are not enforced: "${missing}" not found (install the NVIDIA driver utilities or set FASTGSHARE_NVIDIA_SMI to its path)`,
    ]);
    expect((await replica('gpu-b'))?.deviceMemoryLimit?.enforcement).to.equal('unenforced');
    expect((await replica('gpu-a'))?.restarts).to.equal(0);
  });
});
