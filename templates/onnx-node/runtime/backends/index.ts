/** The registry of device backends: one name, one factory. */
import type { Logger } from 'fastgshare/core/logger.ts';
import type { ExecutionBackend } from './backend.ts';
import { loadLatencyTable } from 'fastgshare/core/profiles/calibration-table.ts';
import type { BackendConfig } from './config.ts';
import { createCpuBackend } from './cpu.ts';
import { defaultCudaLibraryDirs } from 'fastgshare/core/devices/cuda-probe.ts';
import { createCudaBackend } from './cuda.ts';
import { createEmulatedBackend, type Sleep } from './emulated.ts';
import { emulatedDeviceClient } from './emulated-device-client.ts';

export function createBackend(config: BackendConfig, deps: { logger: Logger; sleep?: Sleep }): ExecutionBackend {
  const logger = deps.logger.child(`device-${config.device}`);
  switch (config.device) {
    case 'cpu':
      return createCpuBackend({
        cores: config.cores,
        partitionPercent: config.partitionPercent,
        logger,
        modelCacheDir: config.modelCacheDir,
      });
    case 'emulated':
      return createEmulatedBackend({
        table: loadLatencyTable(config.calibrationDir),
        profileModel: config.emulatedProfile!,
        partitionPercent: config.partitionPercent,
        logger,
        // the node's shared emulated device when the agent gives one: batches of racing replicas contend
        sleep:
          deps.sleep ??
          (config.emulatedDeviceSocket
            ? emulatedDeviceClient({
                socketPath: config.emulatedDeviceSocket,
                partitionPercent: config.partitionPercent,
                logger,
              }).run
            : undefined),
      });
    case 'cuda':
      return createCudaBackend({
        deviceId: config.cudaDeviceId,
        partitionPercent: config.partitionPercent,
        gpuMemLimitBytes: config.gpuMemLimitBytes,
        libraryDirs: defaultCudaLibraryDirs(config.ldLibraryPath),
        logger,
      });
  }
}
