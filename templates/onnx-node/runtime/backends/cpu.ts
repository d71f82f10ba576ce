/**
 * The `cpu` device: real onnxruntime-node inference on a set of CPU cores. A compute partition of
 * p % of the node's cores becomes p % of them as intra-op threads; the node agent pins the replica
 * to the same cores with taskset (`coresForPartition` computes which).
 */
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { Logger } from 'fastgshare/core/logger.ts';
import { createWorkerExecutor, type WorkerSessionOptions } from '../executor.ts';
import type { BackendDescription, ExecutionBackend, ModelRef } from './backend.ts';

/** Number of cores a partition of `percent` % of `coreCount` cores gets (at least one). */
export function threadsForPartition(percent: number, coreCount: number): number {
  if (!(percent > 0 && percent <= 100)) throw new PlatformError('bad_request', `partition must be in (0, 100] percent, got ${percent}`);
  if (!Number.isInteger(coreCount) || coreCount < 1) throw new PlatformError('bad_request', `core count must be a positive whole number, got ${coreCount}`);
  return Math.max(1, Math.min(coreCount, Math.round((coreCount * percent) / 100)));
}

/**
 * The cores a replica with a partition of `percent` % of `allCores` is pinned to, taken from
 * `freeCores` (those not yet given to another replica) in order. Throws when too few are free.
 */
export function coresForPartition(percent: number, allCores: readonly number[], freeCores: readonly number[] = allCores): number[] {
  const n = threadsForPartition(percent, allCores.length);
  const free = freeCores.filter((c) => allCores.includes(c));
  if (free.length < n) {
    throw new PlatformError('unavailable', `a ${percent}% partition needs ${n} of ${allCores.length} cores, only ${free.length} free (${free.join(',') || 'none'})`);
  }
  return free.slice(0, n);
}

/** `taskset -c` list syntax: [0,1,2,5] → "0-2,5". */
export function formatCoreList(cores: readonly number[]): string {
  const sorted = [...new Set(cores)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export interface CpuBackendOptions {
  /** Cores this replica is pinned to (the agent's taskset list). */
  cores: number[];
  partitionPercent: number;
  logger: Logger;
  graphOptimization?: WorkerSessionOptions['graphOptimizationLevel'];
  /** Model sharing: open models from the node's shared copies in this folder (model-cache.mjs). */
  modelCacheDir?: string;
}

export function cpuSessionOptions(threads: number, graphOptimization: WorkerSessionOptions['graphOptimizationLevel'] = 'all'): WorkerSessionOptions {
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
        models.push({ model: model.name, copy: shared.error ? null : shared.path, builtByThisReplica: shared.built, ...(shared.error ? { error: shared.error } : {}) });
      }
      return executor;
    },
  };
}
