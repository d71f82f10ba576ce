/**
 * The `cuda` device: onnxruntime-node's CUDA execution provider on one GPU. The compute partition
 * is an MPS active-thread percentage that the node agent sets for the replica process
 * (CUDA_MPS_ACTIVE_THREAD_PERCENTAGE); this backend reports it. Construction fails at once, naming
 * every missing library, when the CUDA provider or the CUDA libraries are not installed.
 *
 * Note: onnxruntime-node's binding reads only `deviceId` from the CUDA provider options, so the
 * device-memory limit cannot be handed to ORT from JavaScript; it is reported in `describe()` for
 * the node agent, which enforces it from outside.
 */
import { ORT_CUDA_PROVIDER_LIBS, ortBinaryDir, probeCuda } from 'fastgshare/core/devices/cuda-probe.ts';
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { Logger } from 'fastgshare/core/logger.ts';
import { createWorkerExecutor, type WorkerSessionOptions } from '../executor.ts';
import type { BackendDescription, ExecutionBackend, ModelRef } from './backend.ts';

export interface CudaBackendOptions {
  deviceId: number;
  /** MPS active-thread percentage for this replica. */
  partitionPercent: number;
  /** Device memory this replica may use, bytes (enforced by the node agent, see above). */
  gpuMemLimitBytes?: number;
  /** Where to look for CUDA libraries (see defaultCudaLibraryDirs in core/devices/cuda-probe.ts). */
  libraryDirs: string[];
  logger: Logger;
  /** For tests: where onnxruntime-node's binary lives. */
  ortDir?: string;
}

export function createCudaBackend(options: CudaBackendOptions): ExecutionBackend {
  if (!Number.isInteger(options.deviceId) || options.deviceId < 0)
    throw new PlatformError('bad_request', `cuda device id must be a whole number ≥ 0, got ${options.deviceId}`);
  const ortDir = options.ortDir ?? ortBinaryDir();
  const { missing } = probeCuda(ortDir, options.libraryDirs);
  if (missing.length > 0) {
    const list = missing.map((m) => m.library).join(', ');
    const hint = missing.some((m) => ORT_CUDA_PROVIDER_LIBS.includes(m.library))
      ? ` The CUDA provider is not bundled with onnxruntime-node: install it with ONNXRUNTIME_NODE_INSTALL=cuda12 (or copy the provider libraries into ${ortDir}).`
      : '';
    throw new PlatformError(
      'unsupported_device',
      `the cuda device cannot run on this node: missing ${list} (searched ${[...new Set(missing.flatMap((m) => m.searched))].join(', ')}).${hint}`,
      {
        details: { missing: missing.map((m) => m.library) },
      },
    );
  }
  const sessionOptions: WorkerSessionOptions = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: false,
    enableMemPattern: true,
    executionProviders: [{ name: 'cuda', deviceId: options.deviceId }],
  };
  const description: BackendDescription = {
    device: 'cuda',
    partitionPercent: options.partitionPercent,
    deviceId: options.deviceId,
    gpuMemLimitBytes: options.gpuMemLimitBytes,
    // the weights live in each process's device memory (the CUDA provider copies them there), so
    // mapping one host copy would save nothing on the device
    modelSharing: 'off',
  };
  return {
    device: 'cuda',
    describe: () => description,
    open: (model: ModelRef) =>
      createWorkerExecutor({
        modelPath: model.path,
        device: `cuda:${options.deviceId}`,
        sessionOptions,
        logger: options.logger.child(model.name),
      }),
  };
}
