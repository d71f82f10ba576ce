/**
 * The environment a model-function replica gets for its device (read by the onnx-node runtime,
 * templates/onnx-node/runtime/backends/config.ts and runtime/http/config.ts).
 */
import type { DeviceRequest } from '../../core/contracts/annotations.ts';

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
    FASTGSHARE_DEVICE: req.device,
    FASTGSHARE_PARTITION: String(req.partitionPercent),
  };
  if (req.sloMs !== undefined) env.FASTGSHARE_SLO_MS = String(req.sloMs);
  if (req.maxBatch !== undefined) env.FASTGSHARE_MAX_BATCH = String(req.maxBatch);
  if (req.quotaRequest !== undefined) env.FASTGSHARE_QUOTA_REQUEST = String(req.quotaRequest);
  if (req.quotaLimit !== undefined) env.FASTGSHARE_QUOTA_LIMIT = String(req.quotaLimit);
  if (req.memoryBytes !== undefined) env.FASTGSHARE_GPU_MEMORY_BYTES = String(req.memoryBytes);
  env.FASTGSHARE_MODEL_SHARING = req.modelSharing ? 'on' : 'off';
  if (extra.modelCacheDir) env.FASTGSHARE_MODEL_CACHE = extra.modelCacheDir;
  switch (req.device) {
    case 'cpu':
      if (extra.coreList) env.FASTGSHARE_CPUS = extra.coreList;
      // libraries that size their own thread pools (OpenMP, libvips) follow the partition too
      if (extra.cores) {
        env.OMP_NUM_THREADS = String(extra.cores.length);
        env.VIPS_CONCURRENCY = String(extra.cores.length);
      }
      break;
    case 'emulated':
      env.FASTGSHARE_EMULATED_PROFILE = req.emulatedProfile!;
      env.FASTGSHARE_CALIBRATION_DIR = extra.calibrationDir;
      env.FASTGSHARE_EMULATED_DEVICE = String(req.emulatedDevice);
      if (extra.emulatedDeviceSocket) env.FASTGSHARE_EMULATED_DEVICE_SOCKET = extra.emulatedDeviceSocket;
      break;
    case 'cuda':
      env.FASTGSHARE_CUDA_DEVICE = String(req.cudaDevice);
      env.CUDA_MPS_ACTIVE_THREAD_PERCENTAGE = String(req.partitionPercent);
      break;
  }
  return env;
}
