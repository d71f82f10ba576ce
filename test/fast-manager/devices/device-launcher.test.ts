/**
 * fast-manager/devices: annotations → device request (400 naming the annotation), core
 * allocation, and the device launcher's plans (taskset prefix, replica environment, cores given
 * back on exit, deploy-time refusal of cuda without CUDA libraries and of unknown profiles).
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { PlatformError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { PLATFORM_ROOT } from '../../../core/version.ts';
import { readDeviceRequest, hasDeviceAnnotations } from '../../../core/contracts/annotations.ts';
import { createCoreAllocator } from '../../../fast-manager/devices/core-allocator.ts';
import { createDeviceLauncher } from '../../../fast-manager/devices/device-launcher.ts';
import { cudaProbe, findExecutable } from '../../../fast-manager/devices/node-devices.ts';
import type { ExitInfo, LaunchPlan, ReplicaLauncher } from '../../../fast-manager/replicas/launcher.ts';

function badAnnotation(fn: () => unknown, annotation: string): PlatformError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(PlatformError);
    const e = err as PlatformError;
    expect(e.status).to.equal(400);
    expect(e.message).to.contain(annotation);
    return e;
  }
  throw new Error('expected a PlatformError');
}

function recordingLauncher() {
  const plans: LaunchPlan[] = [];
  const exits: ((e: ExitInfo) => void)[] = [];
  const launcher: ReplicaLauncher = {
    launch(plan) {
      plans.push(plan);
      return {
        pid: 1000 + plans.length,
        stdout: null,
        stderr: null,
        exited: new Promise<ExitInfo>((r) => exits.push(r)),
      };
    },
  };
  return { launcher, plans, exits };
}

const plan = (annotations: Record<string, string> | undefined): LaunchPlan => ({
  replicaId: 'fn-1',
  namespace: 'openfaas-fn',
  name: 'fn',
  argv: ['node', '--import', 'tsx', 'index.ts'],
  cwd: '/tmp',
  env: { PORT: '9000', PATH: '/usr/bin' },
  port: 9000,
  annotations,
});

const noCuda = () => ({ missing: [{ library: 'libcudart.so.12', searched: ['/usr/local/cuda/lib64'] }] });

describe('fast-manager/devices', () => {
  describe('annotations', () => {
    it('reads device, partition, memory, quotas, SLO and batch', () => {
      const r = readDeviceRequest({
        'fastgshare/device': 'cpu',
        'fastgshare/gpu_sm_partition': '50',
        'fastgshare/gpu_mem': '1Gi',
        'fastgshare/gpu_quota_request': '0.3',
        'fastgshare/gpu_quota_limit': '0.6',
        'fastgshare/slo_ms': '250',
        'fastgshare/max_batch': '8',
      });
      expect(r).to.deep.include({
        device: 'cpu',
        partitionPercent: 50,
        memoryBytes: 2 ** 30,
        quotaRequest: 0.3,
        quotaLimit: 0.6,
        sloMs: 250,
        maxBatch: 8,
        cudaDevice: 0,
        modelSharing: true,
      });
      expect(readDeviceRequest({ 'fastgshare/model_sharing': 'off' }).modelSharing).to.equal(false);
      expect(readDeviceRequest({ 'fastgshare/model_sharing': ' On ' }).modelSharing).to.equal(true);
      expect(readDeviceRequest({}).device).to.equal('cpu');
      expect(readDeviceRequest({}).partitionPercent).to.equal(100);
      expect(hasDeviceAnnotations({ 'com.openfaas.health.http.path': '/_/health' })).to.equal(false);
      expect(hasDeviceAnnotations({ 'fastgshare/slo_ms': '100' })).to.equal(true);
    });

    it('refuses bad values naming the annotation', () => {
      badAnnotation(() => readDeviceRequest({ 'fastgshare/device': 'tpu' }), 'fastgshare/device');
      badAnnotation(() => readDeviceRequest({ 'fastgshare/gpu_sm_partition': '0' }), 'fastgshare/gpu_sm_partition');
      badAnnotation(() => readDeviceRequest({ 'fastgshare/gpu_sm_partition': 'half' }), 'fastgshare/gpu_sm_partition');
      badAnnotation(() => readDeviceRequest({ 'fastgshare/gpu_mem': 'lots' }), 'fastgshare/gpu_mem');
      badAnnotation(
        () => readDeviceRequest({ 'fastgshare/gpu_quota_request': '0.8', 'fastgshare/gpu_quota_limit': '0.5' }),
        'fastgshare/gpu_quota_request',
      );
      badAnnotation(() => readDeviceRequest({ 'fastgshare/gpu_quota_limit': '1.5' }), 'fastgshare/gpu_quota_limit');
      badAnnotation(() => readDeviceRequest({ 'fastgshare/max_batch': '2.5' }), 'fastgshare/max_batch');
      badAnnotation(() => readDeviceRequest({ 'fastgshare/slo_ms': '-1' }), 'fastgshare/slo_ms');
      badAnnotation(() => readDeviceRequest({ 'fastgshare/device': 'emulated' }), 'fastgshare/emulated_profile');
      badAnnotation(() => readDeviceRequest({ 'fastgshare/model_sharing': 'sometimes' }), 'fastgshare/model_sharing');
    });
  });

  it('spreads core allocations over the least used cores and takes them back', () => {
    const a = createCoreAllocator([0, 1, 2, 3]);
    expect(a.acquire(2)).to.deep.equal([0, 1]);
    expect(a.acquire(1)).to.deep.equal([2]);
    expect(a.acquire(2)).to.deep.equal([3, 0].sort());
    a.release([0, 1]);
    expect(a.usage()).to.deep.equal({ 0: 1, 1: 0, 2: 1, 3: 1 });
    expect(a.acquire(9)).to.have.length(4);
  });

  describe('launcher', () => {
    const make = (inner: ReplicaLauncher, probe = noCuda) =>
      createDeviceLauncher({
        inner,
        cores: [0, 1],
        taskset: '/usr/bin/taskset',
        calibrationDir: join(PLATFORM_ROOT, 'calibration'),
        modelCacheDir: '/data/model-cache',
        probeCuda: probe,
        log: silentLogger,
      });

    it('pins a cpu replica to its share of the cores and sets its device environment', async () => {
      const rec = recordingLauncher();
      const d = make(rec.launcher);
      d.launch(
        plan({
          'fastgshare/device': 'cpu',
          'fastgshare/gpu_sm_partition': '50',
          'fastgshare/slo_ms': '300',
          'fastgshare/max_batch': '4',
        }),
      );
      d.launch(plan({ 'fastgshare/device': 'cpu', 'fastgshare/gpu_sm_partition': '50' }));
      expect(rec.plans[0].argv).to.deep.equal(['/usr/bin/taskset', '-c', '0', 'node', '--import', 'tsx', 'index.ts']);
      expect(rec.plans[1].argv.slice(0, 3)).to.deep.equal(['/usr/bin/taskset', '-c', '1']);
      expect(rec.plans[0].env).to.include({
        PORT: '9000',
        FASTGSHARE_DEVICE: 'cpu',
        FASTGSHARE_PARTITION: '50',
        FASTGSHARE_CPUS: '0',
        OMP_NUM_THREADS: '1',
        FASTGSHARE_SLO_MS: '300',
        FASTGSHARE_MAX_BATCH: '4',
        FASTGSHARE_MODEL_SHARING: 'on',
        FASTGSHARE_MODEL_CACHE: '/data/model-cache/openfaas-fn',
      });
      rec.exits[0]!({ code: 0, signal: null });
      await new Promise((r) => setImmediate(r));
      d.launch(plan({ 'fastgshare/gpu_sm_partition': '100' }));
      expect(rec.plans[2].argv.slice(0, 3)).to.deep.equal(['/usr/bin/taskset', '-c', '0-1']);
      expect(d.allocator.usage()).to.deep.equal({ 0: 1, 1: 2 });
    });

    it('leaves a function without device annotations untouched', () => {
      const rec = recordingLauncher();
      make(rec.launcher).launch(plan({ 'com.openfaas.health.http.path': '/_/health' }));
      expect(rec.plans[0].argv[0]).to.equal('node');
      expect(rec.plans[0].env).to.deep.equal({ PORT: '9000', PATH: '/usr/bin' });
    });

    it('gives emulated replicas their profile and cuda replicas the MPS percentage', () => {
      const rec = recordingLauncher();
      const d = make(rec.launcher, () => ({ missing: [] }));
      d.launch(
        plan({
          'fastgshare/device': 'emulated',
          'fastgshare/emulated_profile': 'v100-resnet50',
          'fastgshare/gpu_sm_partition': '24',
        }),
      );
      d.launch(
        plan({
          'fastgshare/device': 'cuda',
          'fastgshare/gpu_sm_partition': '30',
          'fastgshare/gpu_mem': '2Gi',
          'fastgshare/cuda_device': '1',
        }),
      );
      expect(rec.plans[0].argv[0]).to.equal('node');
      expect(rec.plans[0].env).to.include({
        FASTGSHARE_DEVICE: 'emulated',
        FASTGSHARE_EMULATED_PROFILE: 'v100-resnet50',
        FASTGSHARE_PARTITION: '24',
        FASTGSHARE_CALIBRATION_DIR: join(PLATFORM_ROOT, 'calibration'),
      });
      expect(rec.plans[1].env).to.include({
        FASTGSHARE_DEVICE: 'cuda',
        CUDA_MPS_ACTIVE_THREAD_PERCENTAGE: '30',
        FASTGSHARE_CUDA_DEVICE: '1',
        FASTGSHARE_GPU_MEMORY_BYTES: String(2 * 2 ** 30),
      });
    });

    it('refuses at deploy time: cuda without CUDA libraries, an unknown emulated profile', () => {
      const d = make(recordingLauncher().launcher);
      const e = badAnnotation(
        () => d.check({ name: 'fn', annotations: { 'fastgshare/device': 'cuda' } }),
        'libcudart.so.12',
      );
      expect(e.code).to.equal('unsupported_device');
      badAnnotation(
        () =>
          d.check({
            name: 'fn',
            annotations: { 'fastgshare/device': 'emulated', 'fastgshare/emulated_profile': 'v100-nope' },
          }),
        'fastgshare/emulated_profile',
      );
      expect(d.check({ name: 'fn', annotations: {} })).to.equal(undefined);
    });

    it('gives an emulated replica the socket of the emulated device it names, and refuses one the node does not have', () => {
      const rec = recordingLauncher();
      const sockets = ['/data/run/emu.sock', '/data/run/emu-1.sock'];
      const d = createDeviceLauncher({
        inner: rec.launcher,
        cores: [0, 1],
        calibrationDir: join(PLATFORM_ROOT, 'calibration'),
        emulatedDevices: { count: 2, socketPath: (i) => sockets[i]! },
        probeCuda: noCuda,
        log: silentLogger,
      });
      const emu = (extra: Record<string, string>) => ({
        'fastgshare/device': 'emulated',
        'fastgshare/emulated_profile': 'v100-resnet50',
        ...extra,
      });
      d.launch(plan(emu({})));
      d.launch(plan(emu({ 'fastgshare/emulated_device': '1' })));
      expect(rec.plans[0].env).to.include({
        FASTGSHARE_EMULATED_DEVICE: '0',
        FASTGSHARE_EMULATED_DEVICE_SOCKET: '/data/run/emu.sock',
      });
      expect(rec.plans[1].env).to.include({
        FASTGSHARE_EMULATED_DEVICE: '1',
        FASTGSHARE_EMULATED_DEVICE_SOCKET: '/data/run/emu-1.sock',
      });
      const e = badAnnotation(
        () => d.check({ name: 'fn', annotations: emu({ 'fastgshare/emulated_device': '2' }) }),
        'fastgshare/emulated_device',
      );
      expect(e.message).to.match(
        /this node has 2 emulated devices \(FASTGSHARE_EMULATED_DEVICES=2\), so there is no device 2; use 0 to 1/,
      );
      expect(e.details?.field).to.equal('annotations.fastgshare/emulated_device');
      expect(() => d.launch(plan(emu({ 'fastgshare/emulated_device': '5' })))).to.throw(/no device 5/);
      expect(rec.plans).to.have.length(2); // nothing started for the refused one
      badAnnotation(
        () => d.check({ name: 'fn', annotations: emu({ 'fastgshare/emulated_device': '-1' }) }),
        'fastgshare/emulated_device',
      );
      badAnnotation(
        () => d.check({ name: 'fn', annotations: emu({ 'fastgshare/emulated_device': 'second' }) }),
        'fastgshare/emulated_device',
      );
      // one device by default: only 0
      expect(
        make(recordingLauncher().launcher).check({
          name: 'fn',
          annotations: emu({ 'fastgshare/emulated_device': '0' }),
        })?.emulatedDevice,
      ).to.equal(0);
      expect(
        badAnnotation(
          () =>
            make(recordingLauncher().launcher).check({
              name: 'fn',
              annotations: emu({ 'fastgshare/emulated_device': '1' }),
            }),
          'fastgshare/emulated_device',
        ).message,
      ).to.match(/has 1 emulated device \(.*use 0$/);
    });

    it('finds what this node really lacks for cuda, and taskset on PATH', () => {
      const { missing } = cudaProbe(undefined)();
      expect(missing.map((m) => m.library)).to.include('libonnxruntime_providers_cuda.so');
      expect(findExecutable('sh', '/nonexistent:/bin:/usr/bin')).to.match(/\/sh$/);
      expect(findExecutable('no-such-tool-xyz', '/bin:/usr/bin')).to.equal(undefined);
    });
  });
});
