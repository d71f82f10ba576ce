/**
 * An executor runs one model for one replica. The real ones (cpu, cuda) hold an onnxruntime-node
 * session in a worker thread, so inference never blocks the replica's event loop; input and output
 * tensors cross the thread boundary by transferring their buffers (no copy). The emulated one
 * (backends/emulated.ts) waits for the calibrated latency instead.
 */
import { Worker } from 'node:worker_threads';
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { Logger } from 'fastgshare/core/logger.ts';
import { transferables, type Tensors, type TensorType } from './tensor.ts';
import type { ExecutionBackend, ModelRef } from './backends/backend.ts';

export interface TensorMeta {
  name: string;
  type: TensorType | string;
  /** Dimensions; symbolic (dynamic) ones are strings. */
  shape: (number | string)[];
}

export interface ExecutorInfo {
  device: string;
  inputs: TensorMeta[];
  outputs: TensorMeta[];
  /** Set when the weights come from the node's shared copy (model-cache.mjs). */
  sharedModel?: SharedModelInfo;
}

/** Where a replica's weights are mapped from (model-cache.mjs `openSharedModel`). */
export interface SharedModelInfo {
  /** The shared optimised model (or the original when sharing failed: see `error`). */
  path: string;
  dataPath?: string;
  key: string;
  /** This replica built the shared copy (it was the first on the node). */
  built: boolean;
  buildMs: number;
  /** Why the replica runs unshared after all. */
  error?: string;
}

export interface Executor {
  readonly info: ExecutorInfo;
  /** Runs one batch. The feeds' buffers are transferred to the worker: do not reuse them afterwards. */
  run(feeds: Tensors): Promise<Tensors>;
  /** Releases the session and ends the worker; pending runs are rejected. */
  close(): Promise<void>;
}

/** Session options the worker passes to `InferenceSession.create` (structured-clonable). */
export interface WorkerSessionOptions {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  executionMode: 'sequential' | 'parallel';
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  enableCpuMemArena: boolean;
  enableMemPattern: boolean;
  executionProviders: ({ name: string; deviceId?: number } | string)[];
}

export interface WorkerExecutorOptions {
  modelPath: string;
  device: string;
  sessionOptions: WorkerSessionOptions;
  logger: Logger;
  /** Open the model from the node's shared copy in this cache folder (model sharing). */
  share?: { cacheDir: string };
}

type FromWorker =
  | { type: 'ready'; inputs: TensorMeta[]; outputs: TensorMeta[]; shared?: SharedModelInfo }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; outputs: Tensors }
  | { type: 'run-error'; id: number; message: string }
  | { type: 'closed' };

/** Opens the model in a new worker thread; resolves when the session is ready. */
export function createWorkerExecutor(options: WorkerExecutorOptions): Promise<Executor> {
  const { logger } = options;
  const worker = new Worker(new URL('./executor-worker.mjs', import.meta.url), {
    workerData: { modelPath: options.modelPath, sessionOptions: options.sessionOptions, share: options.share },
  });
  const pending = new Map<number, { resolve(t: Tensors): void; reject(e: Error): void }>();
  let nextId = 1;
  let dead: PlatformError | undefined;
  let onClosed: (() => void) | undefined;

  const failAll = (err: PlatformError) => {
    dead ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  return new Promise<Executor>((resolveOpen, rejectOpen) => {
    let opened = false;
    worker.on('message', (msg: FromWorker) => {
      switch (msg.type) {
        case 'ready': {
          opened = true;
          const info: ExecutorInfo = {
            device: options.device,
            inputs: msg.inputs,
            outputs: msg.outputs,
            ...(msg.shared ? { sharedModel: msg.shared } : {}),
          };
          logger.info('model session ready', {
            model: options.modelPath,
            device: options.device,
            threads: options.sessionOptions.intraOpNumThreads,
            ...sharedFields(msg.shared),
          });
          if (msg.shared?.error)
            logger.warn('model sharing failed: this replica holds its own copy of the weights', {
              model: options.modelPath,
              error: msg.shared.error,
            });
          resolveOpen(executor(info));
          return;
        }
        case 'init-error':
          rejectOpen(new PlatformError('internal', `cannot load model ${options.modelPath}: ${msg.message}`));
          void worker.terminate();
          return;
        case 'result':
          pending.get(msg.id)?.resolve(msg.outputs);
          pending.delete(msg.id);
          return;
        case 'run-error':
          pending.get(msg.id)?.reject(new PlatformError('internal', `inference failed: ${msg.message}`));
          pending.delete(msg.id);
          return;
        case 'closed':
          onClosed?.();
          return;
      }
    });
    worker.on('error', (err) => {
      logger.error('inference worker failed', { err });
      const e = new PlatformError('internal', `inference worker failed: ${err.message}`, { cause: err });
      failAll(e);
      if (!opened) rejectOpen(e);
    });
    worker.on('exit', (code) => {
      failAll(new PlatformError('unavailable', `inference worker exited (code ${code})`));
      onClosed?.();
      if (!opened)
        rejectOpen(new PlatformError('internal', `inference worker exited (code ${code}) before the model was loaded`));
    });
  });

  function executor(info: ExecutorInfo): Executor {
    return {
      info,
      run(feeds) {
        if (dead) return Promise.reject(dead);
        const id = nextId++;
        return new Promise<Tensors>((resolve, reject) => {
          pending.set(id, { resolve, reject });
          worker.postMessage({ type: 'run', id, feeds }, transferables(feeds));
        });
      },
      async close() {
        if (dead) return;
        failAll(new PlatformError('unavailable', 'executor closed'));
        const closed = new Promise<void>((r) => (onClosed = r));
        worker.postMessage({ type: 'close' });
        const timer = setTimeout(() => void worker.terminate(), 5_000);
        await closed;
        clearTimeout(timer);
        await worker.terminate();
      },
    };
  }
}

function sharedFields(s: SharedModelInfo | undefined): Record<string, unknown> {
  if (!s || s.error) return { modelSharing: 'off' };
  return {
    modelSharing: 'on',
    sharedCopy: s.path,
    builtSharedCopy: s.built,
    ...(s.built ? { buildMs: Math.round(s.buildMs) } : {}),
  };
}

/** Opens an executor for `model` on `backend` (a worker session, or a calibrated timer when emulated). */
export function createExecutor(options: { backend: ExecutionBackend; model: ModelRef }): Promise<Executor> {
  return options.backend.open(options.model);
}
