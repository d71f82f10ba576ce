/**
 * One model function served by one replica: request body → decode (400 on bad input) → dynamic
 * batcher (429 when the SLO cannot be met) → executor on the configured device → JSON result.
 * This is what the onnx-node template's HTTP handler calls.
 */
import type { Clock } from 'fastgshare/core/clock.ts';
import type { Logger } from 'fastgshare/core/logger.ts';
import type { ExecutionBackend } from './backends/backend.ts';
import { createBatcher, type BatcherStats } from './batcher.ts';
import type { Executor } from './executor.ts';
import { createLatencyEstimator, type LatencyEstimator } from './latency-estimator.ts';
import type { ModelFunction } from './model-function.ts';
import type { Timers } from './timers.ts';
import { ungatedDevice, type DeviceGate } from './token-gate.ts';

export interface InferenceOptions<I, O> {
  fn: ModelFunction<I, O>;
  backend: ExecutionBackend;
  maxBatch: number;
  maxQueue: number;
  sloMs: number;
  maxQueueDelayMs?: number;
  /** Batch latency assumed before anything is measured; default 0 (admit until measured, or call warmUp). */
  prior?: (batch: number) => number;
  /** Device tokens when the device is shared (token-gate.ts); default ungated. */
  gate?: DeviceGate;
  clock: Clock;
  timers: Timers;
  logger: Logger;
}

export interface Inference<O, I = unknown> {
  readonly executor: Executor;
  readonly estimator: LatencyEstimator;
  invoke(body: Buffer, contentType: string | undefined, options?: { sloMs?: number }): Promise<O>;
  /** Queues an already decoded input (pipelines pass crops from one stage to the next). */
  submit(input: I, options?: { sloMs?: number }): Promise<O>;
  /** Runs one request outside the queue and seeds the latency estimate with its time; returns ms. */
  warmUp(body: Buffer, contentType: string | undefined): Promise<number>;
  stats(): BatcherStats & { latencyMs: Record<number, number> };
  close(): Promise<void>;
}

export async function createInference<I, O>(options: InferenceOptions<I, O>): Promise<Inference<O, I>> {
  const { fn, clock } = options;
  const gate = options.gate ?? ungatedDevice;
  const executor = await options.backend.open(fn);
  const estimator = createLatencyEstimator({ prior: options.prior ?? (() => 0) });
  const batcher = createBatcher<I, O>({
    runBatch: (items) => fn.infer(executor, items),
    maxBatch: options.maxBatch,
    maxQueue: options.maxQueue,
    sloMs: options.sloMs,
    maxQueueDelayMs: options.maxQueueDelayMs,
    estimator,
    gate,
    clock,
    timers: options.timers,
    logger: options.logger,
  });
  return {
    executor,
    estimator,
    async invoke(body, contentType, invokeOptions) {
      const input = await fn.decode(body, contentType);
      return batcher.submit(input, invokeOptions);
    },
    submit: (input, submitOptions) => batcher.submit(input, submitOptions),
    async warmUp(body, contentType) {
      const input = await fn.decode(body, contentType);
      // warm-up uses the device too, so it runs under a token like any batch
      await gate.run(0, () => fn.infer(executor, [input])); // first run: kernels chosen, memory allocated
      let ms = 0;
      await gate.run(0, async () => {
        const start = clock.now();
        await fn.infer(executor, [input]);
        ms = clock.now() - start;
      });
      estimator.observe(1, ms);
      return ms;
    },
    stats: () => ({ ...batcher.stats(), latencyMs: estimator.snapshot() }),
    async close() {
      await batcher.close();
      await executor.close();
    },
  };
}
