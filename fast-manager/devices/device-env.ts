/**
 * The environment a model-function replica gets for its device (the names and their meaning:
 * core/contracts/replica-env.ts; read by the onnx-node runtime,
 * templates/onnx-node/runtime/backends/config.ts and runtime/http/config.ts).
 */
import type { DeviceRequest } from '../../core/contracts/annotations.ts';
import { REPLICA_ENV as E } from '../../core/contracts/replica-env.ts';

/** What the node gives a replica besides its annotations. */
export interface DeviceEnvExtra {
  cores?: readonly number[];
  coreList?: string;
  calibrationDir: string;
  modelCacheDir?: string;
  /** The contention server of the replica's own emulated device (emulated-devices.ts). */
  emulatedDeviceSocket?: string;
}

export function deviceEnv(req: DeviceRequest, extra: DeviceEnvExtra): Record<string, string> {
  const env: Record<string, string> = {
    [E.device]: req.device,
    [E.partition]: String(req.partitionPercent),
  };
  if (req.sloMs !== undefined) env[E.sloMs] = String(req.sloMs);
  if (req.maxBatch !== undefined) env[E.maxBatch] = String(req.maxBatch);
  if (req.quotaRequest !== undefined) env[E.quotaRequest] = String(req.quotaRequest);
  if (req.quotaLimit !== undefined) env[E.quotaLimit] = String(req.quotaLimit);
  if (req.memoryBytes !== undefined) env[E.gpuMemoryBytes] = String(req.memoryBytes);
  env[E.modelSharing] = req.modelSharing ? 'on' : 'off';
  if (extra.modelCacheDir) env[E.modelCache] = extra.modelCacheDir;
  switch (req.device) {
    case 'cpu':
      if (extra.coreList) env[E.cpus] = extra.coreList;
      // libraries that size their own thread pools (OpenMP, libvips) follow the partition too
      if (extra.cores) {
        env.OMP_NUM_THREADS = String(extra.cores.length);
        env.VIPS_CONCURRENCY = String(extra.cores.length);
      }
      break;
    case 'emulated':
      env[E.emulatedProfile] = req.emulatedProfile!;
      env[E.calibrationDir] = extra.calibrationDir;
      env[E.emulatedDevice] = String(req.emulatedDevice);
      if (extra.emulatedDeviceSocket) env[E.emulatedDeviceSocket] = extra.emulatedDeviceSocket;
      break;
    case 'cuda':
      env[E.cudaDevice] = String(req.cudaDevice);
      env.CUDA_MPS_ACTIVE_THREAD_PERCENTAGE = String(req.partitionPercent);
      break;
  }
  return env;
}
