/**
 * The `emulated` device: a GPU partition calibrated from published profiles. A batch "runs" for
 * the profiled latency of (profile model, batch, partition) — a timer, no CPU burnt — and returns
 * zero-filled outputs of the shapes the real model would give. Batches queue one after another,
 * as on a device partition.
 */
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { Logger } from 'fastgshare/core/logger.ts';
import type { Executor, ExecutorInfo } from '../executor.ts';
import { zeros, type Tensors } from '../tensor.ts';
import type { BackendDescription, ExecutionBackend, ModelRef } from './backend.ts';
import type { LatencyTable } from 'fastgshare/core/profiles/calibration-table.ts';

export type Sleep = (ms: number) => Promise<void>;
export const timerSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export interface EmulatedBackendOptions {
  table: LatencyTable;
  /** Which calibrated model this function behaves like (e.g. resnet50). */
  profileModel: string;
  partitionPercent: number;
  logger: Logger;
  sleep?: Sleep;
}

export function createEmulatedBackend(options: EmulatedBackendOptions): ExecutionBackend {
  const { table, profileModel, partitionPercent } = options;
  if (!table.models().includes(profileModel)) {
    throw new PlatformError(
      'bad_request',
      `emulated device: no calibration profile "${profileModel}"; choose one of ${table.models().join(', ')}`,
    );
  }
  table.latencyMs(profileModel, 1, partitionPercent); // validates the partition
  const sleep = options.sleep ?? timerSleep;
  const description: BackendDescription = {
    device: 'emulated',
    partitionPercent,
    profileModel,
    batch1LatencyMs: table.latencyMs(profileModel, 1, partitionPercent),
  };
  return {
    device: 'emulated',
    describe: () => description,
    async open(model: ModelRef): Promise<Executor> {
      const info: ExecutorInfo = { device: 'emulated', inputs: [], outputs: [] };
      let closed = false;
      let tail: Promise<unknown> = Promise.resolve();
      options.logger.child(model.name).info('emulated model ready', { profileModel, partitionPercent });
      return {
        info,
        run(feeds: Tensors) {
          if (closed) return Promise.reject(new PlatformError('unavailable', 'executor closed'));
          const first = Object.values(feeds)[0];
          if (!first || first.dims.length === 0)
            return Promise.reject(new PlatformError('internal', 'emulated run needs a batched input tensor'));
          const batch = Math.max(1, first.dims[0]);
          const shapes = model.outputShapes(feeds);
          const run = tail.then(async () => {
            await sleep(table.latencyMs(profileModel, batch, partitionPercent));
            if (closed) throw new PlatformError('unavailable', 'executor closed');
            const out: Tensors = {};
            for (const [name, s] of Object.entries(shapes)) out[name] = zeros(s.type, s.dims);
            return out;
          });
          tail = run.catch(() => undefined);
          return run;
        },
        async close() {
          closed = true;
        },
      };
    },
  };
}
