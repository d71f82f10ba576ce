/**
 * The `cpu` device: real onnxruntime-node inference on a set of CPU cores. A compute partition of
 * p % of the node's cores becomes p % of them as intra-op threads; the node agent pins the replica
 * to the same cores with taskset (core/devices/cpu-cores.ts computes which).
 */
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { Logger } from 'fastgshare/core/logger.ts';
import { createWorkerExecutor, type WorkerSessionOptions } from '../executor.ts';
import type { BackendDescription, ExecutionBackend, ModelRef } from './backend.ts';

export interface CpuBackendOptions {
  /** Cores this replica is pinned to (the agent's taskset list). */
  cores: number[];
  partitionPercent: number;
  logger: Logger;
  graphOptimization?: WorkerSessionOptions['graphOptimizationLevel'];
  /** Model sharing: open models from the node's shared copies in this folder (model-cache.mjs). */
  modelCacheDir?: string;
}

export function cpuSessionOptions(
  threads: number,
  graphOptimization: WorkerSessionOptions['graphOptimizationLevel'] = 'all',
): WorkerSessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: graphOptimization,
    // No arena: memory goes back after each batch instead of growing to the largest batch seen.
    enableCpuMemArena: false,
    enableMemPattern: false,
    executionProviders: ['cpu'],
  };
}

export function createCpuBackend(options: CpuBackendOptions): ExecutionBackend {
  if (options.cores.length === 0) throw new PlatformError('bad_request', 'the cpu device needs at least one core');
  // The cores are already this replica's partition (the agent pinned it), so all of them are threads.
  const threads = options.cores.length;
  const sessionOptions = cpuSessionOptions(threads, options.graphOptimization);
  const description: BackendDescription = {
    device: 'cpu',
    partitionPercent: options.partitionPercent,
    cores: [...options.cores],
    intraOpThreads: threads,
    modelSharing: options.modelCacheDir ? 'on' : 'off',
  };
  return {
    device: 'cpu',
    describe: () => description,
    open: async (model: ModelRef) => {
      const executor = await createWorkerExecutor({
        modelPath: model.path,
        device: 'cpu',
        sessionOptions,
        logger: options.logger.child(model.name),
        ...(options.modelCacheDir ? { share: { cacheDir: options.modelCacheDir } } : {}),
      });
      const shared = executor.info.sharedModel;
      if (shared) {
        // what each model's weights are mapped from, shown in the replica's description
        const models = ((description.sharedModels as Record<string, unknown>[] | undefined) ??= []);
        models.push({
          model: model.name,
          copy: shared.error ? null : shared.path,
          builtByThisReplica: shared.built,
          ...(shared.error ? { error: shared.error } : {}),
        });
      }
      return executor;
    },
  };
}
