import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, PlatformError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createBackend } from '../../../templates/onnx-node/runtime/backends/index.ts';
import { parseCoreList, readBackendConfig } from '../../../templates/onnx-node/runtime/backends/config.ts';
import { coresForPartition, formatCoreList, threadsForPartition } from '../../../core/devices/cpu-cores.ts';
import { ortBinaryDir, probeCuda } from '../../../core/devices/cuda-probe.ts';
import { cpuSessionOptions, createCpuBackend } from '../../../templates/onnx-node/runtime/backends/cpu.ts';
import { createCudaBackend } from '../../../templates/onnx-node/runtime/backends/cuda.ts';

describe('onnx-node device backends', () => {
  describe('config', () => {
    it('defaults to cpu, the whole machine, partition 100', () => {
      expect(readBackendConfig({}, 4)).to.deep.include({
        device: 'cpu',
        partitionPercent: 100,
        cores: [0, 1, 2, 3],
        cudaDeviceId: 0,
      });
    });

    it('reads every variable', () => {
      const c = readBackendConfig(
        {
          FASTGSHARE_DEVICE: 'emulated',
          FASTGSHARE_PARTITION: '37.5',
          FASTGSHARE_CPUS: '2-3,0',
          FASTGSHARE_EMULATED_PROFILE: 'resnet50',
          FASTGSHARE_CUDA_DEVICE: '1',
          FASTGSHARE_GPU_MEMORY_BYTES: '1073741824',
        },
        8,
      );
      expect(c).to.deep.include({
        device: 'emulated',
        partitionPercent: 37.5,
        cores: [0, 2, 3],
        emulatedProfile: 'resnet50',
        cudaDeviceId: 1,
        gpuMemLimitBytes: 1073741824,
      });
    });

    it('names the variable at fault', () => {
      const bad: [Record<string, string>, RegExp][] = [
        [{ FASTGSHARE_DEVICE: 'tpu' }, /FASTGSHARE_DEVICE: "tpu" is not one of cpu, emulated, cuda/],
        [{ FASTGSHARE_PARTITION: '0' }, /FASTGSHARE_PARTITION: 0 is out of range 1..100/],
        [{ FASTGSHARE_PARTITION: 'half' }, /FASTGSHARE_PARTITION: "half" is not a number/],
        [{ FASTGSHARE_CPUS: '3-1' }, /FASTGSHARE_CPUS: range "3-1" runs backwards/],
        [{ FASTGSHARE_CPUS: 'a' }, /FASTGSHARE_CPUS: "a" is not a core number/],
        [{ FASTGSHARE_DEVICE: 'emulated' }, /FASTGSHARE_EMULATED_PROFILE: the emulated device needs/],
        [{ FASTGSHARE_CUDA_DEVICE: '1.5' }, /FASTGSHARE_CUDA_DEVICE: "1.5" is not a whole number/],
      ];
      for (const [env, message] of bad) {
        expect(() => readBackendConfig(env, 2)).to.throw(ConfigError, message);
      }
    });

    it('parses taskset core lists', () => {
      expect(parseCoreList('0-2,5,7-8')).to.deep.equal([0, 1, 2, 5, 7, 8]);
      expect(formatCoreList([8, 0, 1, 2, 5, 7])).to.equal('0-2,5,7-8');
    });
  });

  describe('cpu', () => {
    it('maps a partition to a share of the cores, at least one', () => {
      expect(threadsForPartition(100, 16)).to.equal(16);
      expect(threadsForPartition(50, 16)).to.equal(8);
      expect(threadsForPartition(30, 16)).to.equal(5);
      expect(threadsForPartition(5, 4)).to.equal(1);
      expect(() => threadsForPartition(0, 4)).to.throw(PlatformError, /partition must be in \(0, 100\]/);
    });

    it('picks the cores for the agent from those still free', () => {
      const all = [0, 1, 2, 3, 4, 5, 6, 7];
      expect(coresForPartition(50, all)).to.deep.equal([0, 1, 2, 3]);
      expect(coresForPartition(25, all, [2, 3, 6, 7])).to.deep.equal([2, 3]);
      expect(() => coresForPartition(75, all, [6, 7])).to.throw(
        PlatformError,
        /needs 6 of 8 cores, only 2 free \(6,7\)/,
      );
    });

    it('uses every pinned core as an intra-op thread, with no memory arena', () => {
      const b = createCpuBackend({ cores: [2, 3], partitionPercent: 25, logger: silentLogger });
      expect(b.describe()).to.deep.equal({
        device: 'cpu',
        partitionPercent: 25,
        cores: [2, 3],
        intraOpThreads: 2,
        modelSharing: 'off',
      });
      expect(cpuSessionOptions(2)).to.include({
        intraOpNumThreads: 2,
        interOpNumThreads: 1,
        enableCpuMemArena: false,
        graphOptimizationLevel: 'all',
      });
    });
  });

  describe('cuda', () => {
    it('fails at construction on this machine, naming what is missing', () => {
      let err: unknown;
      try {
        createBackend(readBackendConfig({ FASTGSHARE_DEVICE: 'cuda', LD_LIBRARY_PATH: '/nonexistent' }, 2), {
          logger: silentLogger,
        });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(PlatformError);
      const e = err as PlatformError;
      expect(e.code).to.equal('unsupported_device');
      expect(e.message).to.include('libonnxruntime_providers_cuda.so');
      expect(e.message).to.include('ONNXRUNTIME_NODE_INSTALL=cuda12');
      expect(e.details?.missing).to.include('libcudart.so.12');
    });

    it('finds the libraries where they are and accepts the device then', () => {
      const ortDir = mkdtempSync(join(tmpdir(), 'ort-'));
      const libDir = mkdtempSync(join(tmpdir(), 'cuda-'));
      try {
        writeFileSync(join(ortDir, 'libonnxruntime_providers_shared.so'), '');
        writeFileSync(join(ortDir, 'libonnxruntime_providers_cuda.so'), '');
        expect(probeCuda(ortDir, [libDir]).missing.map((m) => m.library)).to.deep.equal([
          'libcuda.so.1',
          'libcudart.so.12',
          'libcublas.so.12',
          'libcublasLt.so.12',
          'libcufft.so.11',
          'libcudnn.so.9',
        ]);
        for (const lib of [
          'libcuda.so.1',
          'libcudart.so.12',
          'libcublas.so.12',
          'libcublasLt.so.12',
          'libcufft.so.11',
          'libcudnn.so.9',
        ])
          writeFileSync(join(libDir, lib), '');
        const b = createCudaBackend({
          deviceId: 1,
          partitionPercent: 40,
          gpuMemLimitBytes: 2 ** 30,
          libraryDirs: [libDir],
          ortDir,
          logger: silentLogger,
        });
        expect(b.describe()).to.deep.equal({
          device: 'cuda',
          partitionPercent: 40,
          deviceId: 1,
          gpuMemLimitBytes: 2 ** 30,
          modelSharing: 'off',
        });
      } finally {
        rmSync(ortDir, { recursive: true, force: true });
        rmSync(libDir, { recursive: true, force: true });
      }
    });

    it("locates onnxruntime-node's native folder", () => {
      expect(ortBinaryDir()).to.match(/onnxruntime-node\/bin\/napi-v\d+\/linux\/x64$/);
    });
  });
});
