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
import type { ServerTiming } from './server-timing.ts';
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

/** Per request: its own SLO, and where to record its stages (server-timing.ts). */
export interface InvokeOptions {
  sloMs?: number;
  timing?: ServerTiming;
}

export interface Inference<O, I = unknown> {
  readonly executor: Executor;
  readonly estimator: LatencyEstimator;
  invoke(body: Buffer, contentType: string | undefined, options?: InvokeOptions): Promise<O>;
  /** Queues an already decoded input (pipelines pass crops from one stage to the next). */
  submit(input: I, options?: InvokeOptions): Promise<O>;
  /**
   * Runs one request outside the queue, then one full batch of it: the first time seeds the latency estimate of batch
   * 1, the two together the shape by which sizes not yet served are estimated; returns the one request's ms.
   */
  warmUp(body: Buffer, contentType: string | undefined): Promise<number>;
  stats(): BatcherStats & { latencyMs: Record<number, number> };
  close(): Promise<void>;
}

/** A queued request: its input, when it joined the queue, and where its stages go. */
interface Job<I> {
  input: I;
  queuedAt: number;
  timing?: ServerTiming;
}

export async function createInference<I, O>(options: InferenceOptions<I, O>): Promise<Inference<O, I>> {
  const { fn, clock } = options;
  const gate = options.gate ?? ungatedDevice;
  const executor = await options.backend.open(fn);
  /**
   * Batch latency over batch size as the warm-up measured it (batch 1 and a full batch, affine between them): the
   * estimator scales sizes it has not served from the nearest size it has by this shape. A shape, not figures: the
   * warm-up runs while every replica of the node starts, and a full-batch figure measured then would stand for good
   * (batches of max_batch are rare), where its ratio to batch 1 holds whatever the contention.
   */
  let warmShape: ((batch: number) => number) | undefined;
  const estimator = createLatencyEstimator({ prior: (b) => warmShape?.(b) ?? options.prior?.(b) ?? 0 });

  // Stage timing. One batch runs at a time per inference (the batcher's rule), so the running
  // batch's moments can live here: when the batcher dispatched it (it calls the gate at once),
  // when the gate let it start, and how long the executor itself took.
  let dispatchedAt = 0;
  let startedAt = 0;
  let executorMs = 0;
  const timedGate: DeviceGate = {
    run(expectedMs, work, need) {
      const dispatched = clock.now();
      return gate.run(
        expectedMs,
        (quotaLeftMs) => {
          dispatchedAt = dispatched;
          startedAt = clock.now();
          return work(quotaLeftMs);
        },
        need,
      );
    },
    expectedWaitMs: (ms) => gate.expectedWaitMs(ms),
    stats: () => gate.stats(),
    forgetWaits: () => gate.forgetWaits(),
    close: () => gate.close(),
  };
  const timedExecutor: Executor = {
    info: executor.info,
    async run(feeds) {
      const t = clock.now();
      try {
        return await executor.run(feeds);
      } finally {
        executorMs += clock.now() - t;
      }
    },
    close: () => executor.close(),
  };
  const runJobs = async (jobs: Job<I>[]): Promise<O[]> => {
    executorMs = 0;
    const outputs = await fn.infer(
      timedExecutor,
      jobs.map((j) => j.input),
    );
    const total = clock.now() - startedAt;
    for (const j of jobs) {
      if (!j.timing) continue;
      // a request that joined while the batch waited for its token waited for the token only
      const dispatched = Math.max(dispatchedAt, j.queuedAt);
      j.timing.add('batch', dispatched - j.queuedAt);
      j.timing.add('token', startedAt - dispatched);
      j.timing.add('prep', total - executorMs);
      j.timing.add('infer', executorMs);
    }
    return outputs;
  };

  /**
   * Requests being decoded: they will join the queue shortly (the batcher does not run a lone request at once while
   * some are on their way).
   */
  let decoding = 0;
  const batcher = createBatcher<Job<I>, O>({
    runBatch: runJobs,
    maxBatch: options.maxBatch,
    maxQueue: options.maxQueue,
    sloMs: options.sloMs,
    maxQueueDelayMs: options.maxQueueDelayMs,
    estimator,
    gate: timedGate,
    incoming: () => decoding,
    clock,
    timers: options.timers,
    logger: options.logger,
  });
  const submit = (input: I, o: InvokeOptions = {}) =>
    batcher.submit(
      { input, queuedAt: clock.now(), timing: o.timing },
      o.sloMs === undefined ? undefined : { sloMs: o.sloMs },
    );
  return {
    executor,
    estimator,
    async invoke(body, contentType, invokeOptions = {}) {
      const t = clock.now();
      decoding++;
      let input: I;
      try {
        input = await fn.decode(body, contentType);
      } finally {
        decoding--;
      }
      invokeOptions.timing?.add('decode', clock.now() - t);
      return submit(input, invokeOptions);
    },
    submit,
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
      // On a shared device, a full batch too, for the shape of latency over batch size: without it the
      // estimator scales sizes it has not seen in proportion to batch 1 (no batching gain), and the
      // batcher cuts each batch to the estimate that fits the token left — so a replica that had only
      // ever run batches of 1 never tried 2. Emulated RNN-T at 24 %: batches of 1 at 84 ms, where 4
      // take 119 ms, and its requests shed at a third of the rate racing replicas served. Ungated, no
      // batch is cut, so served batches of every size teach the estimator (and a warm-up shape made
      // its fuller-batch waits longer: exclusive emulated devices held 918 items/s with it, 1261
      // without).
      const n = options.maxBatch;
      if (n > 1 && gate.stats().gated) {
        const batch = Array.from({ length: n }, () => input);
        let fullMs = 0;
        await gate.run(0, async () => {
          const start = clock.now();
          await fn.infer(executor, batch);
          fullMs = clock.now() - start;
        });
        const one = Math.max(ms, 1e-3);
        const slope = Math.max(0, fullMs - one) / (n - 1);
        warmShape = (b) => one + slope * (b - 1);
      }
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
